using System.Net;
using AuditAgent.Simulator;
using AuditAgent.Tests.Support;
using Deque.AxeCore.Playwright;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace AuditAgent.Tests.Web;

/// <summary>
/// The console in a real browser (Debian's chromium through Playwright), signed in through the simulator's
/// OpenID Connect pages with the same middleware production uses against Entra ID, over a real database.
/// </summary>
public sealed class ConsoleTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string Analyst = "Ana Analyst";

    /// <summary>A console over an agent whose scan opened one incident; disposing it stops both.</summary>
    private sealed record Seeded(ConsoleSite Site, long Id, List<string> People) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Site.DisposeAsync();
            await Site.Agent.DisposeAsync();
        }
    }

    private static async Task<Seeded> SiteWithIncidentAsync(Backend backend = Backend.Sqlite, string subject = "Spring newsletter")
    {
        var (tenant, people) = TenantBuilder.OneExposure(subject);
        var agent = await AgentHarness.StartAsync(tenant, backend: backend);
        await agent.ScanAndProcessAsync();
        var id = Assert.Single(await agent.IncidentsAsync()).Id;
        return new Seeded(await ConsoleSite.StartAsync(agent), id, people);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Analyst_FiltersAcknowledgesDoesTwoStepsAndResolves_TheCliShowsTheSameTimeline(Backend backend)
    {
        await using var seeded = await SiteWithIncidentAsync(backend);
        var (site, id, _) = seeded;
        var page = await browser.NewPageAsync();
        await site.SignInAsync(page, Analyst, "/incidents?q=newsletter");
        await Assertions.Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("1 incidents");
        await page.GetByRole(AriaRole.Link, new() { Name = $"#{id}", Exact = true }).ClickAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("now acknowledged");
        var done = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var button = page.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Mark '.*' done$") }).First;
            done.Add((await button.GetAttributeAsync("aria-label"))!["Mark '".Length..^"' done".Length]);
            await button.ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Step marked done");
        }

        await page.GetByLabel("Resolution note").FillAsync("apology sent in Bcc");
        await page.GetByRole(AriaRole.Button, new() { Name = "Resolve" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("resolved");

        var detail = await site.Agent.IncidentAsync(id);
        Assert.Equal("resolved", detail.Incident.Status);
        Assert.Equal(done.Order(StringComparer.Ordinal), detail.Steps.Where(s => s.Status == "done").Select(s => s.Title).Order(StringComparer.Ordinal));
        Assert.All(detail.Steps.Where(s => s.Status == "done"), s => Assert.StartsWith("ana.analyst@contoso.com (oid ", s.StatusBy, StringComparison.Ordinal));
        Assert.Contains(detail.Timeline, e => e.Text.StartsWith("Acknowledged by ana.analyst@contoso.com", StringComparison.Ordinal));
        Assert.Contains(detail.Timeline, e => e.Text.StartsWith("Resolved by ana.analyst@contoso.com", StringComparison.Ordinal) && e.Text.EndsWith(": apology sent in Bcc", StringComparison.Ordinal));
        if (backend == Backend.Sqlite)
        {
            var (code, output, error) = await Commands.RunAsync("incidents", "show", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--db", site.Agent.Settings["Storage:SqlitePath"]!);
            Assert.True(code == 0, error);
            Assert.Contains("resolved", output, StringComparison.Ordinal);
            Assert.Contains("Resolved by ana.analyst@contoso.com", output, StringComparison.Ordinal);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Viewer_SeesTheIncidentButNoActionAndNoAddress_AndAForgedPostIsForbidden(Backend backend)
    {
        await using var seeded = await SiteWithIncidentAsync(backend);
        var (site, id, people) = seeded;
        var page = await browser.NewPageAsync();
        await site.SignInAsync(page, "Vera Viewer", $"/incidents/{id}");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync($"Incident #{id}");
        var content = await page.ContentAsync();
        var token = await page.Locator("form[action='/signout'] input[name='__RequestVerificationToken']").GetAttributeAsync("value");

        var forged = await page.APIRequest.PostAsync($"{site.BaseUrl}/incidents/{id}?handler=Acknowledge", new()
        {
            Form = page.APIRequest.CreateFormData().Set("__RequestVerificationToken", token!).Set("Version", "0"),
            MaxRedirects = 0,
        });

        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).CountAsync());
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Reveal recipients" }).CountAsync());
        Assert.All(people, p => Assert.DoesNotContain(p, content, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(403, forged.Status);
        Assert.Equal("new", (await site.Agent.IncidentAsync(id)).Incident.Status);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task PrivacyOfficer_RevealsRecipientsWithAReason_TheTimelineRecordsIt(Backend backend)
    {
        await using var seeded = await SiteWithIncidentAsync(backend);
        var (site, id, people) = seeded;
        var page = await browser.NewPageAsync();
        await site.SignInAsync(page, "Piet Privacy", $"/incidents/{id}");
        Assert.DoesNotContain(people[0], await page.ContentAsync(), StringComparison.OrdinalIgnoreCase);

        await page.GetByLabel("Reason to see the addresses").FillAsync("the DPO needs the list for the Art. 34 notice");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reveal recipients" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = people[0], Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Exposed recipients revealed to piet.privacy@contoso.com .*: the DPO needs the list for the Art. 34 notice$") })).ToBeVisibleAsync();
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task TwoAnalystsAtOnce_TheSecondIsToldWhoChangedItAndNothingIsApplied(Backend backend)
    {
        await using var seeded = await SiteWithIncidentAsync(backend);
        var (site, id, _) = seeded;
        var first = await browser.NewPageAsync();
        var second = await browser.NewPageAsync();
        await site.SignInAsync(first, Analyst, $"/incidents/{id}");
        await site.SignInAsync(second, Analyst, $"/incidents/{id}");

        await first.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).ClickAsync();
        await Assertions.Expect(first.GetByRole(AriaRole.Status)).ToContainTextAsync("now acknowledged");
        await second.GetByLabel("Assign to").FillAsync("sec@contoso.com");
        await second.GetByRole(AriaRole.Button, new() { Name = "Assign" }).ClickAsync();

        await Assertions.Expect(second.GetByRole(AriaRole.Alert)).ToContainTextAsync($"incident {id} was changed by ana.analyst@contoso.com");
        await Assertions.Expect(second.GetByRole(AriaRole.Alert)).ToContainTextAsync("nothing was applied");
        var detail = await site.Agent.IncidentAsync(id);
        Assert.Equal("acknowledged", detail.Incident.Status);
        Assert.Null(detail.Incident.Assignee);
    }

    [Fact]
    public async Task HostileSubject_RendersAsText_NoScriptRunsAndNoRequestLeaves()
    {
        const string subject = "<script>window.__pwned=1</script><img src=x onerror=\"alert('xss')\"> \u202Eexe.txt";
        await using var seeded = await SiteWithIncidentAsync(subject: subject);
        var (site, id, _) = seeded;
        var page = await browser.NewPageAsync();
        var dialogs = 0;
        var requests = new List<string>();
        page.Dialog += (_, d) => { dialogs++; _ = d.DismissAsync(); };
        page.Request += (_, r) => requests.Add(r.Url);
        await site.SignInAsync(page, Analyst, $"/incidents/{id}");
        await page.GotoAsync($"{site.BaseUrl}/incidents");

        await page.GotoAsync($"{site.BaseUrl}/incidents/{id}");
        var shown = await page.Locator("dl.facts dd").Nth(1).InnerTextAsync();

        Assert.Contains("<script>window.__pwned=1</script><img src=x onerror=\"alert('xss')\">", shown, StringComparison.Ordinal);
        Assert.DoesNotContain('\u202E', shown);
        Assert.Equal(0, dialogs);
        Assert.False(await page.EvaluateAsync<bool>("() => window.__pwned === 1"));
        Assert.DoesNotContain(requests, u => u.EndsWith("/x", StringComparison.Ordinal));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task TwoInstancesOnOneDatabase_AcceptEachOthersSignIn_KeysAreSealedByTheKeyRing(Backend backend)
    {
        await using var seeded = await SiteWithIncidentAsync(backend);
        var (site, id, _) = seeded;
        await using var other = await ConsoleSite.StartAsync(site.Agent);
        var page = await browser.NewPageAsync();
        await site.SignInAsync(page, Analyst, $"/incidents/{id}");

        // Cookies are per host, not per port: the browser sends the first instance's cookie to the second.
        await page.GotoAsync($"{other.BaseUrl}/incidents/{id}");

        Assert.StartsWith(other.BaseUrl, page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync($"Incident #{id}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("now acknowledged");
        await using var c = await site.Agent.Services.GetRequiredService<AuditAgent.Storage.Database>().OpenAsync(default);
        var stored = (await Dapper.SqlMapper.QueryAsync<string>(c, "SELECT xml FROM console_keys")).ToList();
        Assert.NotEmpty(stored);
        Assert.All(stored, x => Assert.Contains("sealedByKeyRing", x, StringComparison.Ordinal));
        Assert.All(stored, x => Assert.DoesNotContain("masterKey", x, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DigestEscalationExportAndStatus_LinkToTheIncidentPage_WhenPublicUrlIsSet()
    {
        await using var seeded = await SiteWithIncidentAsync();
        var (site, id, _) = seeded;
        using var folder = new TempFolder();
        var db = site.Agent.Settings["Storage:SqlitePath"]!;
        var config = await folder.WriteSettingsAsync(new
        {
            Graph = new { BaseUrl = site.Agent.Settings["Graph:BaseUrl"], AccessToken = site.Agent.Settings["Graph:AccessToken"] },
            Web = new { PublicUrl = site.BaseUrl + "/" },
            Notifications = new { Transport = "None", OutputFolder = folder.Path, EscalateFromSeverity = "Medium" },
        });
        var digest = Path.Combine(folder.Path, "digest.html");
        var preview = await Commands.RunAsync("digest", "--preview", "--out", digest, "--db", db, "--config", config);
        var export = await Commands.RunAsync("incidents", "export", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--format", "json", "--db", db, "--config", config);
        var status = await Commands.RunAsync("status", "--db", db, "--config", config);
        var escalate = await Commands.RunAsync("escalate", "--db", db, "--config", config);
        var link = $"{site.BaseUrl}/incidents/{id}";

        Assert.True(preview.ExitCode == 0, preview.Error);
        Assert.Contains($"<a href=\"{link}\">#{id}</a>", await File.ReadAllTextAsync(digest), StringComparison.Ordinal);
        Assert.Contains(link, await File.ReadAllTextAsync(Path.ChangeExtension(digest, ".txt")), StringComparison.Ordinal);
        Assert.Contains($"\"consoleLink\": \"{link}\"", export.Output, StringComparison.Ordinal);
        Assert.Contains($"Console: {site.BaseUrl}", status.Output, StringComparison.Ordinal);
        Assert.True(escalate.ExitCode == 0, escalate.Error);
        Assert.Contains(Directory.GetFiles(folder.Path, "*.html").Where(f => f != digest), f => File.ReadAllText(f).Contains($"href=\"{link}\"", StringComparison.Ordinal));

        // The digest's link, followed by a signed-in analyst, opens the incident.
        var page = await browser.NewPageAsync();
        await site.SignInAsync(page, Analyst, $"/incidents/{id}");
        await page.GotoAsync(link);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync($"Incident #{id}");
    }

    [Fact]
    public async Task Admin_AddsAndRemovesAnAllowlistEntry_ViewerSeesFindingsButNotTheAgents()
    {
        await using var seeded = await SiteWithIncidentAsync();
        var (site, id, _) = seeded;
        var admin = await browser.NewPageAsync();
        await site.SignInAsync(admin, "Ada Admin", "/allowlist");
        await admin.GetByLabel("Domain or sender").FillAsync("partner.example");
        await admin.GetByLabel("Reason").FillAsync("joint project mailing list");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Add" }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Status)).ToContainTextAsync("partner.example");
        await Assertions.Expect(admin.GetByRole(AriaRole.Cell, new() { Name = "joint project mailing list" })).ToBeVisibleAsync();
        await admin.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Remove entry ") }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Status)).ToContainTextAsync("Removed entry");
        await admin.GotoAsync($"{site.BaseUrl}/agents");
        await Assertions.Expect(admin.GetByRole(AriaRole.Cell, new() { Name = "ann@contoso.com", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Row, new() { Name = "ann@contoso.com" }).GetByRole(AriaRole.Cell).Nth(1)).ToHaveTextAsync("user"); // the mailbox's kind

        var viewer = await browser.NewPageAsync();
        await site.SignInAsync(viewer, "Vera Viewer", "/findings");
        await Assertions.Expect(viewer.GetByRole(AriaRole.Link, new() { Name = $"#{id}", Exact = true })).ToBeVisibleAsync();
        Assert.Equal(0, await viewer.GetByRole(AriaRole.Button, new() { Name = "Add" }).CountAsync());
        var agents = await viewer.GotoAsync($"{site.BaseUrl}/agents");
        Assert.Equal(403, agents!.Status);
    }

    [Fact]
    public async Task Analyst_ByKeyboardAlone_FiltersOpensAndAcknowledges()
    {
        await using var seeded = await SiteWithIncidentAsync();
        var (site, id, _) = seeded;
        var page = await browser.NewPageAsync();
        await site.SignInAsync(page, Analyst, "/incidents");

        async Task TabToAsync(string text)
        {
            for (var i = 0; i < 80; i++)
            {
                await page.Keyboard.PressAsync("Tab");
                if (await page.EvaluateAsync<string>("() => (document.activeElement?.innerText || document.activeElement?.getAttribute('aria-label') || document.activeElement?.name || '').trim()") == text)
                {
                    return;
                }
            }

            Assert.Fail($"'{text}' cannot be reached with Tab");
        }

        await TabToAsync("q");
        await page.Keyboard.TypeAsync("newsletter");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("1 incidents");
        await TabToAsync($"#{id}");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync($"Incident #{id}");
        await TabToAsync("Acknowledge");
        await page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("now acknowledged");
    }

    [Fact]
    public async Task Analyst_AcknowledgesSeveralFromTheList_PrivacyOfficerMarksOneAFalsePositiveWithAnAllowlistEntry()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        t.Send(ann, "Newsletter one", TenantBuilder.Now.AddDays(-3), TenantBuilder.People(30, TenantBuilder.Companies));
        t.Send(ann, "Newsletter two", TenantBuilder.Now.AddDays(-1), TenantBuilder.People(30, "partner.example", "other.example"));
        await using var agent = await AgentHarness.StartAsync(t.Tenant);
        await agent.ScanAndProcessAsync();
        await using var site = await ConsoleSite.StartAsync(agent);
        var ids = (await agent.IncidentsAsync()).Select(i => i.Id).Order().ToList();
        Assert.Equal(2, ids.Count);

        var analyst = await browser.NewPageAsync();
        await site.SignInAsync(analyst, Analyst, "/incidents");
        foreach (var id in ids)
        {
            await analyst.GetByLabel($"Select incident {id}").CheckAsync();
        }

        await analyst.GetByLabel("Action").SelectOptionAsync("acknowledge");
        await analyst.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        foreach (var id in ids)
        {
            await Assertions.Expect(analyst.GetByRole(AriaRole.Status).Filter(new() { HasText = $"Incident {id} is now acknowledged." })).ToHaveCountAsync(1);
        }

        Assert.All(await agent.IncidentsAsync(), i => Assert.Equal("acknowledged", i.Status));

        var officer = await browser.NewPageAsync();
        var two = (await agent.IncidentsAsync()).Single(i => i.Subject == "Newsletter two").Id;
        await site.SignInAsync(officer, "Piet Privacy", $"/incidents/{two}");
        await officer.GetByLabel("Why it is not an exposure").FillAsync("joint mailing with the partner, agreed in the contract");
        await officer.GetByLabel("Value (optional)").FillAsync("partner.example");
        await officer.GetByRole(AriaRole.Button, new() { Name = "False positive" }).ClickAsync();

        await Assertions.Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync("partner.example is allowlisted");
        Assert.Equal("false-positive", (await agent.IncidentAsync(two)).Incident.Status);
        Assert.Contains(await agent.Store.ListAllowlistAsync(CancellationToken.None), e => e.Value == "partner.example" && e.AddedBy.StartsWith("piet.privacy@contoso.com", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PersonWithoutARole_IsToldToAskForOne()
    {
        await using var seeded = await SiteWithIncidentAsync();
        var (site, _, _) = seeded;
        var page = await browser.NewPageAsync();
        await site.SignInAsync(page, "Noor Norole", "/incidents");

        Assert.EndsWith("/no-role", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("You are signed in, but have no role in AuditAgent");
        Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "Incidents" }).CountAsync());
    }

    [Theory]
    [InlineData(SignInFault.WrongAudience)]
    [InlineData(SignInFault.WrongIssuer)]
    [InlineData(SignInFault.WrongTenant)]
    [InlineData(SignInFault.BadSignature)]
    [InlineData(SignInFault.Expired)]
    public async Task UntrustworthyToken_IsRefused_NoSessionIsCreated(SignInFault fault)
    {
        await using var seeded = await SiteWithIncidentAsync();
        var (site, _, _) = seeded;
        site.Simulator.SignIn.Fault = fault;
        var page = await browser.NewPageAsync();
        await site.SignInAsync(page, Analyst, "/incidents");

        Assert.EndsWith("/sign-in-failed", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Sign-in refused");
        await page.GotoAsync($"{site.BaseUrl}/incidents");
        Assert.StartsWith(site.Simulator.Origin, page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backtest_ShowsTheRecommendationAChartAndEachRule_AndReplaysOtherThresholds()
    {
        await using var seeded = await SiteWithIncidentAsync();
        var (site, id, _) = seeded;
        var page = await browser.NewPageAsync();
        await site.SignInAsync(page, "Piet Privacy", "/backtest");

        await Assertions.Expect(page.Locator(".recommendation")).ToContainTextAsync("prompt before sending above 29 visible external recipients");
        await Assertions.Expect(page.GetByRole(AriaRole.Img)).ToHaveCountAsync(1);
        var warned = page.GetByRole(AriaRole.Row, new() { Name = "MailTips large audience: warn above 25 recipients" }).GetByRole(AriaRole.Cell);
        await Assertions.Expect(warned.Nth(0)).ToHaveTextAsync("1"); // the incident of 30 people is warned at 25
        await Assertions.Expect(warned.Nth(2)).ToHaveTextAsync("0"); // and none is missed
        await page.GetByLabel("Warn above").FillAsync("40");
        await page.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync();

        var mailTips = page.GetByRole(AriaRole.Row, new() { Name = "MailTips large audience: warn above 40 recipients" });
        await Assertions.Expect(mailTips.GetByRole(AriaRole.Link, new() { Name = $"#{id}" })).ToBeVisibleAsync(); // missed at 40
        await Shots.TakeAsync(page, "console-backtest");
    }

    [Fact]
    public async Task EveryPage_HasNoSeriousOrCriticalAccessibilityViolation()
    {
        await using var seeded = await SiteWithIncidentAsync();
        var (site, id, _) = seeded;
        var page = await browser.NewPageAsync();
        await site.SignInAsync(page, "Piet Privacy");
        var problems = new List<string>();
        foreach (var path in new[] { "/", "/incidents", $"/incidents/{id}", "/incidents?status=all&sort=exposed&desc=true", "/findings", "/allowlist", "/agents", "/register", "/backtest" })
        {
            await page.GotoAsync(site.BaseUrl + path);
            var result = await page.RunAxe();
            problems.AddRange(result.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{path}: {v.Id} ({v.Impact}): {v.Help}"));
        }

        Assert.Empty(problems);
    }

    [Fact]
    public async Task Readiness_FailsOnlyWhenAJobHasBeenFailingLongerThanAllowed()
    {
        await using var seeded = await SiteWithIncidentAsync();
        var site = seeded.Site;
        var operations = site.Services.GetRequiredService<AuditAgent.Storage.OperationsStore>();
        using var http = new HttpClient();
        var now = DateTimeOffset.UtcNow;
        var once = await operations.StartJobAsync("send-daily-digest", now.AddMinutes(-5), CancellationToken.None);
        await operations.FinishJobAsync(once, "failed", null, "Graph answered 403", now.AddMinutes(-5));
        using var afterOneFailure = await http.GetAsync(new Uri(site.BaseUrl + "/readyz"));

        var first = await operations.StartJobAsync("escalate-incidents", now.AddHours(-3), CancellationToken.None);
        await operations.FinishJobAsync(first, "failed", null, "Graph answered 403", now.AddHours(-3));
        var again = await operations.StartJobAsync("escalate-incidents", now.AddMinutes(-10), CancellationToken.None);
        await operations.FinishJobAsync(again, "failed", null, "Graph answered 403", now.AddMinutes(-10));
        using var afterHours = await http.GetAsync(new Uri(site.BaseUrl + "/readyz"));

        Assert.Equal(HttpStatusCode.OK, afterOneFailure.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, afterHours.StatusCode);
        Assert.Contains("failing for more than 60 minutes: escalate-incidents", await afterHours.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readiness_FailsWhenTheLastSuccessfulScanIsOlderThanAllowed()
    {
        await using var seeded = await SiteWithIncidentAsync();
        var site = seeded.Site;
        using var http = new HttpClient();
        using var fresh = await http.GetAsync(new Uri(site.BaseUrl + "/readyz"));
        var database = site.Services.GetRequiredService<AuditAgent.Storage.Database>();
        await using (var c = await database.OpenAsync(CancellationToken.None))
        {
            await Dapper.SqlMapper.ExecuteAsync(c, database.Command("UPDATE scan_runs SET finished_at = @old", new { old = DateTimeOffset.UtcNow.AddHours(-3) }));
        }

        using var stale = await http.GetAsync(new Uri(site.BaseUrl + "/readyz"));

        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stale.StatusCode);
        Assert.Contains("last successful scan 180 minutes ago, more than 120", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BehindATlsProxy_SignInReturnsToThePublicUrl_AndCookiesAreSecure()
    {
        await using var seeded = await SiteWithIncidentAsync();
        await using var proxied = await ConsoleSite.StartAsync(seeded.Site.Agent, new Dictionary<string, string?> { ["Web:PublicUrl"] = "https://auditagent.contoso.test/" });
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        using var challenge = await http.GetAsync(new Uri(proxied.BaseUrl + "/incidents"));
        var location = WebUtility.UrlDecode(challenge.Headers.Location!.Query);
        var cookies = challenge.Headers.GetValues("Set-Cookie").ToList();

        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        Assert.Contains("redirect_uri=https://auditagent.contoso.test/signin-oidc&", location, StringComparison.Ordinal);
        Assert.NotEmpty(cookies);
        Assert.All(cookies, c => Assert.Contains("; secure", c, StringComparison.OrdinalIgnoreCase));
        Assert.Equal("max-age=31536000; includeSubDomains", challenge.Headers.GetValues("Strict-Transport-Security").Single());
    }

    [Fact]
    public async Task Requests_AreLoggedWithRouteStatusAndDuration_NeverTheQueryOrMailboxText()
    {
        var (tenant, _) = TenantBuilder.OneExposure("Quarterly results for Dr Smith");
        await using var agent = await AgentHarness.StartAsync(tenant);
        await agent.ScanAndProcessAsync();
        var log = new List<string>();
        await using var site = await ConsoleSite.StartAsync(agent, requestLog: log);
        var id = Assert.Single(await agent.IncidentsAsync()).Id;
        var page = await browser.NewPageAsync();

        await site.SignInAsync(page, Analyst, "/incidents?sender=ann%40contoso.com&q=Smith");
        await page.GotoAsync($"{site.BaseUrl}/incidents/{id}");

        List<string> lines;
        lock (log)
        {
            lines = [.. log];
        }

        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^GET /incidents 200 in \d+ ms$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^GET /incidents/\{id:long\} 200 in \d+ ms$"));
        Assert.All(lines, l => Assert.DoesNotContain("Smith", l, StringComparison.Ordinal));
        Assert.All(lines, l => Assert.DoesNotContain("ann@contoso.com", l, StringComparison.Ordinal));
        Assert.All(lines, l => Assert.DoesNotContain("?", l, StringComparison.Ordinal));
    }

    /// <summary>The README's pictures of the console, taken here so they never drift (into docs/ with AUDITAGENT_SCREENSHOTS=1).</summary>
    [Fact]
    public async Task Screenshots_OfTheMainPages()
    {
        await using var seeded = await SiteWithIncidentAsync(subject: "Spring price list 2027");
        var (site, id, _) = seeded;
        using var scratch = new TempFolder();
        var folder = Environment.GetEnvironmentVariable("AUDITAGENT_SCREENSHOTS") == "1" ? RepoFiles.Path("docs") : scratch.Path;
        var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        await site.SignInAsync(page, Analyst);
        var shots = new List<string>();
        foreach (var (path, name) in new[] { ("/", "console-overview.png"), ("/incidents?status=all", "console-incidents.png"), ($"/incidents/{id}", "console-incident.png") })
        {
            await page.GotoAsync(site.BaseUrl + path);
            var file = Path.Combine(folder, name);
            await page.ScreenshotAsync(new() { Path = file, FullPage = true });
            shots.Add(file);
        }

        Assert.All(shots, f => Assert.True(new FileInfo(f).Length > 10_000, f));
    }

    [Fact]
    public async Task Headers_HealthAndReadiness_AndAnonymousPagesAskForSignIn()
    {
        await using var seeded = await SiteWithIncidentAsync();
        var (site, _, _) = seeded;
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var health = await http.GetAsync(new Uri(site.BaseUrl + "/healthz"));
        using var ready = await http.GetAsync(new Uri(site.BaseUrl + "/readyz"));
        using var incidents = await http.GetAsync(new Uri(site.BaseUrl + "/incidents"));
        var csp = health.Headers.GetValues("Content-Security-Policy").Single();

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("{\"status\":\"alive\"}", await health.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"status\":\"ready\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", health.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", health.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal(HttpStatusCode.Redirect, incidents.StatusCode);
        Assert.StartsWith(site.Simulator.Authority.Replace("/v2.0", "/oauth2/v2.0/authorize", StringComparison.Ordinal), incidents.Headers.Location!.ToString(), StringComparison.Ordinal);
    }
}
