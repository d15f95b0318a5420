using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AuditAgent.Core.Incidents;
using AuditAgent.Notifications;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace AuditAgent.Tests.Web;

/// <summary>
/// The escalation mail's one-click answers: real mail written by the agent (.eml), its links opened in a real
/// browser and by a GET-only crawler (as mail gateways do), and every way a link can be wrong.
/// </summary>
public sealed partial class MailAnswerTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    /// <summary>A console on a fixed public address, an agent whose scan opened one incident, and its escalation written to a folder.</summary>
    private sealed record Escalated(ConsoleSite Site, long Id, string Mail, TempFolder Output) : IAsyncDisposable
    {
        public IncidentStore Store => Site.Services.GetRequiredService<IncidentStore>();

        public async Task<IncidentDetail> IncidentAsync() =>
            (await Site.Services.GetRequiredService<IncidentQueries>().GetAsync(Id, CancellationToken.None))!;

        public async ValueTask DisposeAsync()
        {
            await Site.DisposeAsync();
            await Site.Agent.DisposeAsync();
            Output.Dispose();
        }
    }

    private static async Task<Escalated> EscalatedAsync(Dictionary<string, string?>? more = null)
    {
        var (tenant, _) = TenantBuilder.OneExposure();
        var output = new TempFolder();
        var agent = await AgentHarness.StartAsync(tenant, settings: Notifications.NotificationTests.Mail(new()
        {
            ["Notifications:Transport"] = "None",
            ["Notifications:OutputFolder"] = output.Path,
            ["Notifications:EscalateFromSeverity"] = "Medium",
        }));
        await agent.ScanAndProcessAsync();
        var port = FreePort();
        var settings = new Dictionary<string, string?> { ["Web:Urls"] = $"http://127.0.0.1:{port}", ["Web:PublicUrl"] = $"http://127.0.0.1:{port}" };
        foreach (var (k, v) in more ?? [])
        {
            settings[k] = v;
        }

        var site = await ConsoleSite.StartAsync(agent, settings);
        var run = await site.Services.GetRequiredService<EscalationService>().RunAsync(CancellationToken.None);
        Assert.Equal(1, run.Queued);
        var eml = Directory.GetFiles(output.Path, "*.eml").Single(f => MimeKit.MimeMessage.Load(f).To.Mailboxes.Single().Address == "boss@contoso.com");
        return new Escalated(site, Assert.Single(await agent.IncidentsAsync()).Id, eml, output);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The answer links of a written mail, by their words.</summary>
    private static Dictionary<string, string> Links(string eml)
    {
        var html = MimeKit.MimeMessage.Load(eml).HtmlBody ?? "";
        return AnswerLink().Matches(html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["label"].Value), m => WebUtility.HtmlDecode(m.Groups["url"].Value));
    }

    [Fact]
    public async Task TheManagerConfirmsFromTheMail_TheStepIsDoneByThemViaMail_AndTheLinkWorksOnce()
    {
        await using var e = await EscalatedAsync();
        var links = Links(e.Mail);
        var page = await browser.NewPageAsync();

        await page.GotoAsync(links["I have spoken with the sender"]);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Incident #{e.Id}: I have spoken with the sender?");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("30 people in 5 organisations");
        await Shots.TakeAsync(page, "mail-answer-confirm.png");
        await page.GetByRole(AriaRole.Button, new() { Name = "I have spoken with the sender" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Recorded: you have spoken with the sender");
        await page.GotoAsync(links["I have spoken with the sender"]);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("This link was used already");

        var detail = await e.IncidentAsync();
        var step = detail.Steps.Single(s => s.StepKey == "stop-spread");
        Assert.Equal(("done", "boss@contoso.com (via mail)"), (step.Status, step.StatusBy));
        Assert.Contains(detail.Timeline, t => t.Actor == "boss@contoso.com (via mail)" && t.Text.Contains("spoke with the sender", StringComparison.Ordinal));
        Assert.Equal("remediating", detail.Incident.Status);
        var body = await page.ContentAsync();
        Assert.All(TenantBuilder.Companies, d => Assert.DoesNotContain("@" + d, body, StringComparison.OrdinalIgnoreCase)); // never an exposed address
        Assert.DoesNotContain("ann@contoso.com", body, StringComparison.Ordinal); // nor the sender's
    }

    [Fact]
    public async Task AMailGatewayFetchingEveryLink_ChangesNothing()
    {
        await using var e = await EscalatedAsync();
        var before = await e.IncidentAsync();
        using var crawler = new HttpClient(new HttpClientHandler { AllowAutoRedirect = true });
        var links = Links(e.Mail).Values.Concat(Regex.Matches(MimeKit.MimeMessage.Load(e.Mail).TextBody ?? "", @"https?://\S+").Select(m => m.Value)).Distinct().ToList();

        var statuses = new List<HttpStatusCode>();
        foreach (var link in links)
        {
            using var answer = await crawler.GetAsync(new Uri(link));
            statuses.Add(answer.StatusCode);
        }

        var after = await e.IncidentAsync();
        Assert.True(links.Count >= 5, string.Join(", ", links)); // four answers and the incident's page
        Assert.Equal(before.Timeline.Count, after.Timeline.Count);
        Assert.Equal(before.Steps.Select(s => s.Status), after.Steps.Select(s => s.Status));
        Assert.Equal(before.Incident.Status, after.Incident.Status);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task TamperedExpiredWrongIncidentAndReusedLinks_EachGetAClearPage_AndChangeNothing()
    {
        await using var e = await EscalatedAsync();
        var links = Links(e.Mail);
        var help = links["I need help from security"];
        var answerLinks = e.Site.Services.GetRequiredService<AnswerLinks>();
        var token = help[(help.LastIndexOf('/') + 1)..];
        var (read, _) = answerLinks.Read(e.Id, token);
        var expired = $"{e.Site.BaseUrl}/answer/{e.Id}/{answerLinks.Protect(read! with { ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) })}";
        var tampered = help[..^3] + (help[^3] == 'A' ? "B" : "A") + help[^2..];
        var wrongIncident = help.Replace($"/answer/{e.Id}/", $"/answer/{e.Id + 1}/", StringComparison.Ordinal);
        var before = (await e.IncidentAsync()).Timeline.Count;

        using var early = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false });
        var earlyPage = await early.GetStringAsync(new Uri(help)); // a second tab, opened before the first use
        var (first, firstTitle) = await PostAsync(help);
        var (_, againTitle) = await PostAsync(help);
        var (_, replayTitle) = await SubmitAsync(early, help, earlyPage);
        var outcomes = new Dictionary<string, string>
        {
            ["tampered"] = (await PostAsync(tampered)).Title,
            ["expired"] = (await PostAsync(expired)).Title,
            ["wrong incident"] = (await PostAsync(wrongIncident)).Title,
        };

        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal($"Incident #{e.Id}", firstTitle);
        Assert.Equal("This link was used already", againTitle); // the page says so, and offers no button
        Assert.Equal("This link was used already", replayTitle); // the form of a page opened earlier acts no more
        Assert.Equal("This link does not work", outcomes["tampered"]);
        Assert.Equal("This link has expired", outcomes["expired"]);
        Assert.Equal("This link belongs to another incident", outcomes["wrong incident"]);
        var detail = await e.IncidentAsync();
        var added = detail.Timeline.Skip(before).Select(t => t.Text).ToList(); // the one help request and its mail, nothing else
        Assert.Equal(["boss@contoso.com asked from the escalation mail for help from security.", "sam@contoso.com was told that boss@contoso.com needs help."], added);
        var helpMail = Directory.GetFiles(e.Output.Path, "*.eml").Select(f => MimeKit.MimeMessage.Load(f)).Single(m => m.Subject?.StartsWith("Help asked for", StringComparison.Ordinal) == true);
        Assert.Equal("sam@contoso.com", helpMail.To.Mailboxes.Single().Address); // the security contact: the incident has no assignee
    }

    [Fact]
    public async Task AHelpRequestRecordedWhenThePageDiedBeforeItsMail_IsMailedByTheNextEscalationRun_Once()
    {
        await using var e = await EscalatedAsync();
        var actions = e.Site.Services.GetRequiredService<AuditAgent.Incidents.IncidentActions>();
        var escalations = e.Site.Services.GetRequiredService<EscalationService>();
        static int HelpMails(TempFolder output) =>
            Directory.GetFiles(output.Path, "*.eml").Count(f => MimeKit.MimeMessage.Load(f).Subject?.StartsWith("Help asked for", StringComparison.Ordinal) == true);

        await actions.AnswerFromMailAsync(e.Id, MailAnswer.NeedHelp, null, "boss@contoso.com", "nonce-of-a-page-that-died", CancellationToken.None);
        var before = HelpMails(e.Output);
        await escalations.RunAsync(CancellationToken.None);
        await escalations.RunAsync(CancellationToken.None);

        Assert.Equal((0, 1), (before, HelpMails(e.Output)));
    }

    [Fact]
    public async Task WithSignInRequired_OnlyTheAddressedPersonCanAnswer()
    {
        await using var e = await EscalatedAsync(new() { ["Web:RequireSignInForMailActions"] = "true" });
        var links = e.Site.Services.GetRequiredService<AnswerLinks>();
        var ana = e.Site.Simulator.SignIn.Users.Single(u => u.Name == "Ana Analyst").UserName;
        var link = links.For(e.Id, MailAnswer.Authorised, ana)!;

        var vera = await browser.Browser.NewContextAsync();
        var page = await vera.NewPageAsync();
        await page.GotoAsync(link);
        await page.GetByRole(AriaRole.Link, new() { Name = "Vera Viewer", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("This link was sent to someone else");

        var anaContext = await browser.Browser.NewContextAsync();
        page = await anaContext.NewPageAsync();
        await page.GotoAsync(link);
        await page.GetByRole(AriaRole.Link, new() { Name = "Ana Analyst", Exact = true }).ClickAsync();
        await page.GetByLabel("Who authorised sending it this way, and why?").FillAsync("Agreed with the trade-show organiser; attendees consented to share contacts.");
        await page.GetByRole(AriaRole.Button, new() { Name = "This mail was authorised" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("An analyst will review the justification");

        var detail = await e.IncidentAsync();
        Assert.Equal("Agreed with the trade-show organiser; attendees consented to share contacts.", detail.Incident.ReviewNote);
        Assert.True(detail.Incident.Status is "new" or "acknowledged", detail.Incident.Status); // never closed by it
        Assert.Contains(detail.Timeline, t => t.Actor == $"{ana} (via mail)" && t.Kind == "answer");
        await page.GotoAsync($"{e.Site.BaseUrl}/incidents/{e.Id}");
        await Assertions.Expect(page.GetByRole(AriaRole.Note)).ToContainTextAsync("Waiting for an analyst's review");
        var digest = await e.Site.Services.GetRequiredService<DigestComposer>().RenderAsync(CancellationToken.None);
        Assert.Contains($"{ana} answered from the escalation mail that the message was authorised", digest.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AskSender_TheSenderIsAskedWithoutBlame_AndINeverSentThis_MakesItCriticalAndTellsSecurityAtOnce()
    {
        await using var e = await EscalatedAsync(new() { ["Notifications:AskSender"] = "true", ["Notifications:BulkMailPlatform"] = "the marketing team's newsletter tool" });
        var question = Directory.GetFiles(e.Output.Path, "*.eml").Select(f => (File: f, Mail: MimeKit.MimeMessage.Load(f))).Single(m => m.Mail.Subject?.StartsWith("A quick question about a message you sent", StringComparison.Ordinal) == true);
        var escalation = MimeKit.MimeMessage.Load(e.Mail);
        var links = Links(question.File);
        var page = await browser.NewPageAsync();
        await page.SetContentAsync(question.Mail.HtmlBody ?? "");
        await Shots.TakeAsync(page, "mail-sender-question.png");
        await page.SetContentAsync(escalation.HtmlBody ?? "");
        await Shots.TakeAsync(page, "mail-escalation.png");

        await page.GotoAsync(links["I did not send this"]);
        await page.GetByRole(AriaRole.Button, new() { Name = "I did not send this" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The security team has been told at once");

        Assert.Equal("ann@contoso.com", question.Mail.To.Mailboxes.Single().Address);
        Assert.Equal(["It was a mistake", "The recipients agreed to share their addresses", "I did not send this"], links.Keys);
        Assert.Contains("use the marketing team's newsletter tool", question.Mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("not asking who is to blame", question.Mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("The sender was asked what happened and has not answered yet.", escalation.TextBody, StringComparison.Ordinal);
        var detail = await e.IncidentAsync();
        Assert.Equal(("critical", "not-me"), (detail.Incident.Severity, detail.Incident.SenderAnswer));
        var check = detail.Steps.Single(s => s.StepKey == "check-account-sign-ins");
        Assert.Equal(("security", "todo"), (check.Owner, check.Status));
        var alarm = Directory.GetFiles(e.Output.Path, "*.eml").Select(f => MimeKit.MimeMessage.Load(f)).Single(m => m.Subject?.StartsWith("Possible compromised account", StringComparison.Ordinal) == true);
        Assert.Equal("sam@contoso.com", alarm.To.Mailboxes.Single().Address);
        Assert.All(Directory.GetFiles(e.Output.Path, "*.eml"), f => Assert.All(TenantBuilder.Companies, d => Assert.DoesNotContain("@" + d, File.ReadAllText(f), StringComparison.OrdinalIgnoreCase)));
        var sent = Directory.GetFiles(e.Output.Path, "*.eml").Select(f => MimeKit.MimeMessage.Load(f)).ToList();
        Assert.All(sent, m => Assert.Empty(m.Cc.Mailboxes.Concat(m.Bcc.Mailboxes))); // the agent never mails a list
        Assert.All(sent, m => Assert.Single(m.To.Mailboxes)); // one person per message, and never one of the exposed
        Assert.All(sent, m => Assert.EndsWith("@contoso.com", m.To.Mailboxes.Single().Address, StringComparison.Ordinal));
    }

    /// <summary>As a browser does: the page, then its button (when it has one; else what the page said).</summary>
    private static async Task<(HttpStatusCode Status, string Title)> PostAsync(string link)
    {
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false });
        var page = await client.GetStringAsync(new Uri(link));
        return await SubmitAsync(client, link, page);
    }

    private static async Task<(HttpStatusCode Status, string Title)> SubmitAsync(HttpClient client, string link, string page)
    {
        var token = AntiforgeryToken().Match(page);
        if (!token.Success)
        {
            return (HttpStatusCode.OK, Title(page));
        }

        using var form = new FormUrlEncodedContent([new("__RequestVerificationToken", WebUtility.HtmlDecode(token.Groups[1].Value))]);
        using var answer = await client.PostAsync(new Uri(link), form);
        return (answer.StatusCode, Title(await answer.Content.ReadAsStringAsync()));
    }

    private static string Title(string html) => WebUtility.HtmlDecode(Heading().Match(html).Groups[1].Value.Trim());

    [GeneratedRegex("<a href=\"(?<url>[^\"]+/answer/[^\"]+)\"[^>]*>(?<label>[^<]+)</a>")]
    private static partial Regex AnswerLink();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    [GeneratedRegex("<h1>([^<]*)</h1>")]
    private static partial Regex Heading();
}
