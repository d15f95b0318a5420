using System.Net;
using AuditAgent.Simulator;
using AuditAgent.Tests.Support;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace AuditAgent.Tests.Web;

/// <summary>
/// The console in a real browser (Debian's chromium through Playwright), signed in through the simulator's
/// OpenID Connect pages with the same middleware production uses against Entra ID, over a real database.
/// </summary>
public sealed class ConsoleTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string Analyst = "Ana Analyst";

    private static async Task<(ConsoleSite Site, long Id, List<string> People)> SiteWithIncidentAsync(Backend backend = Backend.Sqlite, string subject = "Spring newsletter")
    {
        var t = new TenantBuilder();
        var boss = t.User("boss");
        var ann = t.User("ann", boss.Id);
        var people = TenantBuilder.People(30, TenantBuilder.Companies);
        t.Send(ann, subject, TenantBuilder.Now.AddDays(-1), people);
        var agent = await AgentHarness.StartAsync(t.Tenant, backend: backend);
        await agent.ScanAndProcessAsync();
        var id = Assert.Single(await agent.IncidentsAsync()).Id;
        return (await ConsoleSite.StartAsync(agent), id, people);
    }

    private static async Task DisposeAsync(ConsoleSite site)
    {
        await site.DisposeAsync();
        await site.Agent.DisposeAsync();
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Analyst_FiltersAcknowledgesDoesTwoStepsAndResolves_TheCliShowsTheSameTimeline(Backend backend)
    {
        var (site, id, _) = await SiteWithIncidentAsync(backend);
        try
        {
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
        finally
        {
            await DisposeAsync(site);
        }
    }

    [Fact]
    public async Task Viewer_SeesTheIncidentButNoActionAndNoAddress_AndAForgedPostIsForbidden()
    {
        var (site, id, people) = await SiteWithIncidentAsync();
        try
        {
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
        finally
        {
            await DisposeAsync(site);
        }
    }

    [Fact]
    public async Task PrivacyOfficer_RevealsRecipientsWithAReason_TheTimelineRecordsIt()
    {
        var (site, id, people) = await SiteWithIncidentAsync();
        try
        {
            var page = await browser.NewPageAsync();
            await site.SignInAsync(page, "Piet Privacy", $"/incidents/{id}");
            Assert.DoesNotContain(people[0], await page.ContentAsync(), StringComparison.OrdinalIgnoreCase);

            await page.GetByLabel("Reason to see the addresses").FillAsync("the DPO needs the list for the Art. 34 notice");
            await page.GetByRole(AriaRole.Button, new() { Name = "Reveal recipients" }).ClickAsync();

            await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = people[0], Exact = true })).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Exposed recipients revealed to piet.privacy@contoso.com .*: the DPO needs the list for the Art. 34 notice$") })).ToBeVisibleAsync();
        }
        finally
        {
            await DisposeAsync(site);
        }
    }

    [Fact]
    public async Task TwoAnalystsAtOnce_TheSecondIsToldWhoChangedItAndNothingIsApplied()
    {
        var (site, id, _) = await SiteWithIncidentAsync();
        try
        {
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
        finally
        {
            await DisposeAsync(site);
        }
    }

    [Fact]
    public async Task HostileSubject_RendersAsText_NoScriptRunsAndNoRequestLeaves()
    {
        const string subject = "<script>window.__pwned=1</script><img src=x onerror=\"alert('xss')\"> \u202Eexe.txt";
        var (site, id, _) = await SiteWithIncidentAsync(subject: subject);
        try
        {
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
        finally
        {
            await DisposeAsync(site);
        }
    }

    [Fact]
    public async Task PersonWithoutARole_IsToldToAskForOne()
    {
        var (site, _, _) = await SiteWithIncidentAsync();
        try
        {
            var page = await browser.NewPageAsync();
            await site.SignInAsync(page, "Noor Norole", "/incidents");

            Assert.EndsWith("/no-role", page.Url, StringComparison.Ordinal);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("You are signed in, but have no role in AuditAgent");
            Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "Incidents" }).CountAsync());
        }
        finally
        {
            await DisposeAsync(site);
        }
    }

    [Theory]
    [InlineData(SignInFault.WrongAudience)]
    [InlineData(SignInFault.WrongIssuer)]
    [InlineData(SignInFault.WrongTenant)]
    [InlineData(SignInFault.BadSignature)]
    [InlineData(SignInFault.Expired)]
    public async Task UntrustworthyToken_IsRefused_NoSessionIsCreated(SignInFault fault)
    {
        var (site, _, _) = await SiteWithIncidentAsync();
        try
        {
            site.Simulator.SignIn.Fault = fault;
            var page = await browser.NewPageAsync();
            await site.SignInAsync(page, Analyst, "/incidents");

            Assert.EndsWith("/sign-in-failed", page.Url, StringComparison.Ordinal);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Sign-in refused");
            await page.GotoAsync($"{site.BaseUrl}/incidents");
            Assert.StartsWith(site.Simulator.Origin, page.Url, StringComparison.Ordinal);
        }
        finally
        {
            await DisposeAsync(site);
        }
    }

    [Fact]
    public async Task EveryPage_HasNoSeriousOrCriticalAccessibilityViolation()
    {
        var (site, id, _) = await SiteWithIncidentAsync();
        try
        {
            var page = await browser.NewPageAsync();
            await site.SignInAsync(page, "Piet Privacy");
            var problems = new List<string>();
            foreach (var path in new[] { "/", "/incidents", $"/incidents/{id}", "/incidents?status=all&sort=exposed&desc=true" })
            {
                await page.GotoAsync(site.BaseUrl + path);
                var result = await page.RunAxe();
                problems.AddRange(result.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{path}: {v.Id} ({v.Impact}): {v.Help}"));
            }

            Assert.Empty(problems);
        }
        finally
        {
            await DisposeAsync(site);
        }
    }

    [Fact]
    public async Task Headers_HealthAndReadiness_AndAnonymousPagesAskForSignIn()
    {
        var (site, _, _) = await SiteWithIncidentAsync();
        try
        {
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
        finally
        {
            await DisposeAsync(site);
        }
    }
}
