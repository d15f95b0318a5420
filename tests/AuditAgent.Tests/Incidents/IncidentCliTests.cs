using System.Text.Json;
using AuditAgent.Cli;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static AuditAgent.Tests.Support.Commands;
using static AuditAgent.Tests.Support.TenantBuilder;

namespace AuditAgent.Tests.Incidents;

/// <summary>Triage from the command line: the lifecycle, the plan, the allowlist, exports.</summary>
public class IncidentCliTests
{
    private static async Task<(AgentHarness Agent, long IncidentId)> OneIncidentAsync(string subject = "Price list")
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        t.Send(ann, subject, Now.AddDays(-1), [.. People(20, Companies), .. People(2, "gmail.com")]);
        var agent = await AgentHarness.StartAsync(t.Tenant);
        await agent.ScanAndProcessAsync();
        return (agent, (await agent.IncidentsAsync()).Single().Id);
    }

    [Fact]
    public async Task Lifecycle_EveryChangeIsInTheTimelineWithActorAndTime()
    {
        var (agent, id) = await OneIncidentAsync();
        await using var _ = agent;
        var db = agent.DatabasePath;
        var n = id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(0, (await RunAsync("incidents", "ack", n, "--by", "sam@contoso.com", "--db", db)).ExitCode);
        Assert.Equal(0, (await RunAsync("incidents", "assign", n, "--to", "kim@contoso.com", "--by", "sam@contoso.com", "--db", db)).ExitCode);
        var step = await RunAsync("incidents", "step", n, "stop-spread", "done", "--by", "kim@contoso.com", "--note", "Called Ann", "--db", db);
        Assert.Equal(0, step.ExitCode);
        Assert.Equal(0, (await RunAsync("incidents", "step", n, "offer-protection", "skip", "--by", "kim@contoso.com", "--db", db)).ExitCode);
        Assert.Equal(0, (await RunAsync("incidents", "resolve", n, "--by", "kim@contoso.com", "--note", "All steps handled", "--db", db)).ExitCode);
        Assert.Equal(0, (await RunAsync("incidents", "reopen", n, "--by", "dpo@contoso.com", "--note", "Customer complaint", "--db", db)).ExitCode);

        var detail = await agent.IncidentAsync(id);
        Assert.Equal("acknowledged", detail.Incident.Status);
        Assert.Equal("kim@contoso.com", detail.Incident.Assignee);
        Assert.Equal(
            ["detected", "acknowledged", "assigned", "step", "remediating", "step", "resolved", "reopened"],
            detail.Timeline.Select(e => e.Kind));
        Assert.Equal(["AuditAgent", "sam@contoso.com", "sam@contoso.com", "kim@contoso.com", "kim@contoso.com", "kim@contoso.com", "kim@contoso.com", "dpo@contoso.com"],
            detail.Timeline.Select(e => e.Actor));
        Assert.All(detail.Timeline, e => Assert.True(e.At > DateTimeOffset.UtcNow.AddMinutes(-5)));
        Assert.Contains("Called Ann", detail.Timeline[3].Text, StringComparison.Ordinal);
        var stop = detail.Steps.Single(s => s.StepKey == "stop-spread");
        Assert.Equal(("done", "kim@contoso.com", "Called Ann"), (stop.Status, stop.StatusBy, stop.Note));
        Assert.Equal("skipped", detail.Steps.Single(s => s.StepKey == "offer-protection").Status);
    }

    [Fact]
    public async Task Lifecycle_InvalidTransitions_AreRefusedWithAClearMessage()
    {
        var (agent, id) = await OneIncidentAsync();
        await using var _ = agent;
        var db = agent.DatabasePath;
        var n = id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var reopenNew = await RunAsync("incidents", "reopen", n, "--by", "sam", "--db", db);
        await RunAsync("incidents", "resolve", n, "--by", "sam", "--db", db);
        var ackResolved = await RunAsync("incidents", "ack", n, "--by", "sam", "--db", db);
        var stepResolved = await RunAsync("incidents", "step", n, "stop-spread", "done", "--by", "sam", "--db", db);
        var missing = await RunAsync("incidents", "ack", "999", "--by", "sam", "--db", db);
        await RunAsync("incidents", "reopen", n, "--by", "sam", "--db", db);
        var badStep = await RunAsync("incidents", "step", n, "no-such-step", "done", "--by", "sam", "--db", db);

        Assert.Equal((ExitCodes.Usage, $"error: incident {n}: the incident is new, not closed; only resolved or false-positive incidents can be reopened.\n"), (reopenNew.ExitCode, reopenNew.Error));
        Assert.Equal((ExitCodes.Usage, $"error: incident {n}: the incident is resolved; reopen it first.\n"), (ackResolved.ExitCode, ackResolved.Error));
        Assert.Contains("reopen it before changing its plan", stepResolved.Error, StringComparison.Ordinal);
        Assert.Equal("error: incident 999: there is no incident 999.\n", missing.Error);
        Assert.Contains("has no plan step 'no-such-step'; its steps are: stop-spread, apologise-from-higher-up", badStep.Error, StringComparison.Ordinal);
        Assert.Equal(3, (await agent.IncidentAsync(id)).Timeline.Count);
    }

    [Fact]
    public async Task FalsePositive_WithAllowlistDomain_AddsTheEntryInTheSameStep()
    {
        var t = new TenantBuilder();
        var ann = t.User("ann");
        t.Send(ann, "Partner update", Now.AddDays(-3), People(12, "adatum.com", "litwareinc.com"));
        await using var agent = await AgentHarness.StartAsync(t.Tenant);
        await agent.ScanAndProcessAsync();
        var id = (await agent.IncidentsAsync()).Single().Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var result = await RunAsync("incidents", "false-positive", id, "--by", "dpo@contoso.com", "--note", "Adatum partner programme",
            "--allowlist-domain", "adatum.com", "--expires", "2099-12-31", "--db", agent.DatabasePath);
        var list = await RunAsync("allowlist", "list", "--format", "json", "--db", agent.DatabasePath);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("is now false-positive", result.Output, StringComparison.Ordinal);
        var entry = JsonDocument.Parse(list.Output).RootElement.EnumerateArray().Single();
        Assert.Equal(("domain", "adatum.com", "dpo@contoso.com", "Adatum partner programme", true),
            (entry.GetProperty("kind").GetString(), entry.GetProperty("value").GetString(), entry.GetProperty("addedBy").GetString(),
             entry.GetProperty("reason").GetString(), entry.GetProperty("active").GetBoolean()));
        Assert.Contains((await agent.IncidentAsync(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture))).Timeline, e => e.Kind == "allowlist");
    }

    [Fact]
    public async Task AllowlistCommands_AddListRemove_AndBadInputIsExplained()
    {
        var (agent, _) = await OneIncidentAsync();
        await using var __ = agent;
        var db = agent.DatabasePath;

        var added = await RunAsync("allowlist", "add", "--sender", "Mailer@Contoso.com", "--by", "sam", "--reason", "Bulk platform", "--db", db);
        var both = await RunAsync("allowlist", "add", "--sender", "a@b.com", "--domain", "b.com", "--by", "sam", "--reason", "x", "--db", db);
        var badDate = await RunAsync("allowlist", "add", "--domain", "b.com", "--by", "sam", "--reason", "x", "--expires", "next week", "--db", db);
        var table = await RunAsync("allowlist", "list", "--db", db);
        var removed = await RunAsync("allowlist", "remove", "1", "--by", "sam", "--db", db);
        var again = await RunAsync("allowlist", "remove", "1", "--by", "sam", "--db", db);

        Assert.Equal((0, "Allowlist entry 1: sender mailer@contoso.com.\n"), (added.ExitCode, added.Output));
        Assert.Equal("error: give either a domain or a sender, not both.\n", both.Error);
        Assert.Contains("--expires must be a date such as 2027-01-31", badDate.Error, StringComparison.Ordinal);
        Assert.Contains("Bulk platform", table.Output, StringComparison.Ordinal);
        Assert.Equal(0, removed.ExitCode);
        Assert.Equal((ExitCodes.Usage, "error: there is no allowlist entry 1.\n"), (again.ExitCode, again.Error));
    }

    [Fact]
    public async Task ListJson_HasTheFieldsTriageNeeds_AndFindingsJsonLinksToIncidents()
    {
        var (agent, id) = await OneIncidentAsync();
        await using var _ = agent;

        var incidents = JsonDocument.Parse((await RunAsync("incidents", "list", "--format", "json", "--db", agent.DatabasePath)).Output).RootElement;
        var findings = JsonDocument.Parse((await RunAsync("findings", "list", "--format", "json", "--db", agent.DatabasePath)).Output).RootElement;

        var incident = incidents.EnumerateArray().Single();
        Assert.Equal(id, incident.GetProperty("id").GetInt64());
        Assert.Equal("low", incident.GetProperty("severity").GetString());
        Assert.Equal("new", incident.GetProperty("status").GetString());
        Assert.Equal("ann@contoso.com", incident.GetProperty("sender").GetString());
        Assert.Equal(22, incident.GetProperty("exposedCount").GetInt32());
        Assert.Equal(2, incident.GetProperty("personalCount").GetInt32());
        Assert.False(incident.GetProperty("reExposed").GetBoolean());
        Assert.False(incident.GetProperty("repeatSender").GetBoolean());
        Assert.Equal("<msg-1@contoso.com>", incident.GetProperty("messages").EnumerateArray().Single().GetString());
        var finding = findings.EnumerateArray().Single();
        Assert.Equal(("low", false, id), (finding.GetProperty("severity").GetString(), finding.GetProperty("suppressed").GetBoolean(), finding.GetProperty("incidentId").GetInt64()));
    }

    [Fact]
    public async Task ShowAndExport_EncodeMailboxTextAndHideAddressesUnlessAsked()
    {
        var (agent, id) = await OneIncidentAsync("<script>alert(1)</script> | *offer*");
        await using var _ = agent;
        var n = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var db = agent.DatabasePath;

        var show = await RunAsync("incidents", "show", n, "--db", db);
        var html = await RunAsync("incidents", "export", n, "--format", "html", "--db", db);
        var md = await RunAsync("incidents", "export", n, "--format", "md", "--db", db);
        var withRecipients = await RunAsync("incidents", "export", n, "--format", "json", "--include-recipients", "--db", db);

        Assert.Contains("Plan:", show.Output, StringComparison.Ordinal);
        Assert.Contains("assess-and-record-breach", show.Output, StringComparison.Ordinal);
        Assert.Contains("GDPR Art. 33 assessment due", show.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html.Output, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html.Output, StringComparison.Ordinal);
        Assert.Contains(@"\<script\>alert\(1\)\</script\> \| \*offer\*", md.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("@fabrikam.com", html.Output + md.Output, StringComparison.Ordinal);
        Assert.Contains("fabrikam.com", md.Output, StringComparison.Ordinal);
        var recipients = JsonDocument.Parse(withRecipients.Output).RootElement.GetProperty("recipients");
        Assert.Equal(22, recipients.GetArrayLength());
    }

    [Fact]
    public async Task Scan_MalformedPlaybook_IsRefusedBeforeAnyWorkWithTheLine()
    {
        using var folder = new TempFolder();
        var playbook = Path.Combine(folder.Path, "playbook.yaml");
        await File.WriteAllTextAsync(playbook, "steps:\n  - key: call\n    title: Call\n    why: Now\n    owner: ceo\n    due: 1h\n");
        var config = await folder.WriteSettingsAsync(new
        {
            Graph = new { AccessToken = "x", BaseUrl = "http://127.0.0.1:1/v1.0" },
            Storage = new { SqlitePath = Path.Combine(folder.Path, "a.db") },
            Incidents = new { PlaybookFile = playbook },
        });

        var (code, _, error) = await RunAsync("scan", "--config", config);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("Incidents:PlaybookFile playbook.yaml, line 5: owner \"ceo\" is not one of", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder.Path, "a.db")));
    }

    [Theory]
    [InlineData("com", "com is a public suffix")]
    [InlineData("co.uk", "co.uk is a public suffix")]
    [InlineData("github.io", "github.io is a public suffix")]
    [InlineData("example", "'example' is not a domain name")]
    [InlineData("", "'' is not a domain name")]
    [InlineData("*", "'*' is not a domain name")]
    [InlineData("*.fabrikam.com", "'*.fabrikam.com' is not a domain name")]
    [InlineData("gmail.com", "gmail.com is a consumer mailbox provider")]
    [InlineData("hotmail.co.uk", "hotmail.co.uk is a consumer mailbox provider")]
    [InlineData("contoso.com", "the tenant's own domain contoso.com")]
    [InlineData("eu.contoso.com", "the tenant's own domain contoso.com")]
    public async Task AllowlistAdd_DomainThatWouldSuppressFarMoreThanAPartner_IsRefusedSayingWhy(string domain, string reason)
    {
        var (agent, _) = await OneIncidentAsync();
        await using var _ = agent;

        var (code, _, error) = await RunAsync("allowlist", "add", "--domain", domain, "--by", "sam", "--reason", "Partner", "--db", agent.DatabasePath);

        Assert.Equal(2, code);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Empty(await agent.Store.ListAllowlistAsync(CancellationToken.None));
    }

    [Fact]
    public async Task FalsePositive_WithAPublicSuffixToAllowlist_IsRefusedAndTheIncidentStaysOpen()
    {
        var (agent, id) = await OneIncidentAsync();
        await using var _ = agent;

        var (code, _, error) = await RunAsync("incidents", "false-positive", id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--by", "dpo", "--note", "Partner", "--allowlist-domain", "com", "--db", agent.DatabasePath);

        Assert.Equal(2, code);
        Assert.Contains("com is a public suffix", error, StringComparison.Ordinal);
        Assert.Equal("new", (await agent.IncidentAsync(id)).Incident.Status);
    }

    [Theory]
    [InlineData("adatum.com")]
    [InlineData("partner.co.uk")]
    [InlineData("Bücher.de")]
    public async Task AllowlistAdd_APartnersOwnDomain_IsAccepted(string domain)
    {
        var (agent, _) = await OneIncidentAsync();
        await using var _ = agent;

        var (code, _, error) = await RunAsync("allowlist", "add", "--domain", domain, "--by", "sam", "--reason", "Partner", "--db", agent.DatabasePath);

        Assert.True(code == 0, error);
        Assert.Single(await agent.Store.ListAllowlistAsync(CancellationToken.None));
    }

    /// <summary>Ann's price list to 12 people (low) and Bob's message with <paramref name="bobsSubject"/> to <paramref name="bobsRecipients"/>.</summary>
    private static async Task<AgentHarness> TwoIncidentsAsync(string bobsSubject, int bobsRecipients)
    {
        var t = new TenantBuilder();
        t.Send(t.User("ann"), "Price list", Now.AddDays(-1), People(12, Companies));
        t.Send(t.User("bob"), bobsSubject, Now.AddDays(-1), People(bobsRecipients, Companies));
        var agent = await AgentHarness.StartAsync(t.Tenant);
        await agent.ScanAndProcessAsync();
        return agent;
    }

    [Fact]
    public async Task TriageCommands_TakeSeveralIds_EachOnItsOwn_OneLineEach_AndFailIfAnyFailed()
    {
        await using var agent = await TwoIncidentsAsync("Invitation", 14);
        var db = agent.DatabasePath;

        var ack = await RunAsync("incidents", "ack", "1", "99", "2", "--by", "sam", "--db", db);
        var assign = await RunAsync("incidents", "assign", "1", "2", "--to", "kim", "--by", "sam", "--db", db);
        var resolve = await RunAsync("incidents", "resolve", "1", "2", "--by", "kim", "--db", db);

        Assert.Equal(2, ack.ExitCode);
        Assert.Equal(["Incident 1 is now acknowledged.", "Incident 2 is now acknowledged."], ack.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("incident 99: there is no incident 99", ack.Error, StringComparison.Ordinal);
        Assert.Equal(0, assign.ExitCode);
        Assert.Equal(0, resolve.ExitCode);
        Assert.All(await agent.IncidentsAsync(), i => Assert.Equal(("resolved", "kim"), (i.Status, i.Assignee)));
    }

    [Theory]
    [InlineData("incidents", "ack", "--by", "sam")]
    [InlineData("findings", "list", "--no-such-option")]
    [InlineData("no-such-command")]
    public async Task UsageMistake_ExitsWith2(params string[] args)
    {
        var (code, _, _) = await RunAsync(args);

        Assert.Equal(2, code);
    }

    [Fact]
    public async Task List_FiltersBySenderAssigneeSinceAndOverdue_AndPrintsCsv()
    {
        await using var agent = await TwoIncidentsAsync("=cmd|' /C calc'!A0", 30);
        var db = agent.DatabasePath;
        var bobs = (await agent.IncidentsAsync()).Single(i => i.SenderAddress == "bob@contoso.com").Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await RunAsync("incidents", "assign", bobs, "--to", "Kim@contoso.com", "--by", "sam", "--db", db);

        static async Task<string[]> Ids(params string[] args) =>
            [.. JsonDocument.Parse((await RunAsync([.. args, "--format", "json"])).Output).RootElement.EnumerateArray().Select(e => e.GetProperty("sender").GetString()!)];

        Assert.Equal(["bob@contoso.com", "ann@contoso.com"], await Ids("incidents", "list", "--db", db)); // medium before low
        Assert.Equal(["ann@contoso.com"], await Ids("incidents", "list", "--sender", "ANN@contoso.com", "--db", db));
        Assert.Equal(["bob@contoso.com"], await Ids("incidents", "list", "--assignee", "kim@contoso.com", "--db", db));
        Assert.Empty(await Ids("incidents", "list", "--since", Now.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), "--db", db));
        Assert.Empty(await Ids("incidents", "list", "--overdue", "--db", db)); // the first step is due 4 h after detection, which was just now
        await using (var c = await agent.Services.GetRequiredService<AuditAgent.Storage.Database>().OpenAsync(CancellationToken.None))
        {
            await Dapper.SqlMapper.ExecuteAsync(c, "UPDATE plan_steps SET due_at = @past WHERE incident_id = @id AND step_key = 'stop-spread'", new { past = Now.AddHours(-1), id = long.Parse(bobs, System.Globalization.CultureInfo.InvariantCulture) });
        }

        Assert.Equal(["bob@contoso.com"], await Ids("incidents", "list", "--overdue", "--db", db));
        var csv = (await RunAsync("incidents", "list", "--format", "csv", "--db", db)).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("Id,Severity,Status,DetectedAt,Sender,Subject,Exposed,Domains,Personal,ReExposed,RepeatSender,Assignee", csv[0], StringComparison.Ordinal);
        Assert.Contains(",\"'=cmd|' /C calc'!A0\",", csv[1], StringComparison.Ordinal);
        Assert.Equal(3, csv.Length);
        Assert.Equal(2, (await RunAsync("incidents", "list", "--since", "last week", "--db", db)).ExitCode);
    }
}
