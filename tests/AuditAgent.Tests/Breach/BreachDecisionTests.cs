using System.Globalization;
using System.Text.Json;
using AuditAgent.Core.Events;
using AuditAgent.Events;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Microsoft.Extensions.DependencyInjection;
using static AuditAgent.Tests.Support.Commands;

namespace AuditAgent.Tests.Breach;

/// <summary>The breach decision from the command line, on both databases: recorded, refused, changed (keeping the first), late; the register.</summary>
public sealed class BreachDecisionTests
{
    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Decisions_AreRecordedRefusedChangedAndKept_AndTheRegisterHasThem(Backend backend)
    {
        var (tenant, people) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant, backend: backend);
        await agent.ScanAndProcessAsync();
        var id = Assert.Single(await agent.IncidentsAsync()).Id;
        var n = id.ToString(CultureInfo.InvariantCulture);
        using var folder = new TempFolder();
        var config = await agent.WriteStorageSettingsAsync(folder);
        string[] Assess(params string[] more) => ["incidents", "assess", n, "--config", config, .. more];

        var refused = await RunAsync(Assess("--risk", "risk", "--reasons", "30 customers' addresses", "--notify-authority", "no", "--tell-subjects", "no", "--by", "dpo@contoso.com"));
        var first = await RunAsync(Assess("--risk", "unlikely", "--reasons", "business addresses of a trade fair's exhibitors", "--notify-authority", "no",
            "--rationale", "work addresses already public on the fair's site", "--tell-subjects", "no", "--by", "dpo@contoso.com"));
        var undecidedEvents = await EventsAsync(agent);
        var changed = await RunAsync(Assess("--risk", "risk", "--reasons", "one exhibitor complained of spam", "--notify-authority", "yes",
            "--tell-subjects", "no", "--notified-at", "2026-12-01T10:00Z", "--reference", "ICO-4711", "--by", "dpo2@contoso.com"));
        var late = await RunAsync(Assess("--risk", "risk", "--reasons", "as before", "--notify-authority", "yes", "--tell-subjects", "no",
            "--aware-at", DateTimeOffset.UtcNow.AddDays(-4).ToString("O", CultureInfo.InvariantCulture), "--aware-reason", "the sales team knew on Monday", "--by", "dpo@contoso.com"));
        var csv = await RunAsync("register", "export", "--format", "csv", "--config", config);
        var json = await RunAsync("register", "export", "--format", "json", "--config", config);
        var xlsxFile = Path.Combine(folder.Path, "register.xlsx");
        var xlsx = await RunAsync("register", "export", "--format", "xlsx", "--out", xlsxFile, "--config", config);

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("only an unlikely risk may go unnotified", refused.Error, StringComparison.Ordinal);
        Assert.Contains("needs its rationale", refused.Error, StringComparison.Ordinal);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, changed.ExitCode);
        Assert.Equal(2, late.ExitCode);
        Assert.Contains("reasons for the delay (Art. 33(1))", late.Error, StringComparison.Ordinal);
        var decisions = await agent.Store.AssessmentsAsync(id, CancellationToken.None);
        Assert.Equal(["unlikely", "risk"], decisions.Select(d => d.Risk));
        var detail = await agent.IncidentAsync(id);
        var timeline = detail.Timeline.Where(t => t.Kind == "assessment").Select(t => t.Text).ToList();
        var assess = detail.Steps.Single(s => s.StepKey == AuditAgent.Core.Playbooks.DefaultPlaybook.AssessBreach);
        Assert.Equal(("done", "dpo@contoso.com"), (assess.Status, assess.StatusBy)); // the first decision did the plan's step
        Assert.Equal(2, timeline.Count);
        Assert.StartsWith("Breach decision by dpo@contoso.com: unlikely to result in a risk; do not notify the authority: work addresses already public", timeline[0], StringComparison.Ordinal);
        Assert.StartsWith("Breach decision changed by dpo2@contoso.com (the one by dpo@contoso.com of ", timeline[1], StringComparison.Ordinal);
        Assert.Contains("notify the supervisory authority (notified 2026-12-01 10:00 UTC, reference ICO-4711)", timeline[1], StringComparison.Ordinal);
        var assessed = (await EventsAsync(agent)).Where(e => e.Type == EventTypes.BreachAssessed).ToList();
        Assert.Equal(2, assessed.Count);
        Assert.True(assessed[1].Data.GetProperty("details").GetProperty("changed").GetBoolean());
        Assert.Equal(1, undecidedEvents.Count(e => e.Type == EventTypes.BreachAssessed));

        var header = csv.Output.Split('\n')[0];
        var row = csv.Output.Split('\n')[1];
        Assert.StartsWith("incident,severity,status,sender,sent_as,sent_at,detected_at,aware_at,notification_due_at,decided_at,decided_by,decisions,risk,", header, StringComparison.Ordinal);
        Assert.Contains(",dpo2@contoso.com,2,risk,one exhibitor complained of spam,yes,,2026-12-01T10:00:00Z,ICO-4711,", row, StringComparison.Ordinal);
        var register = JsonDocument.Parse(json.Output).RootElement.GetProperty("register");
        Assert.Equal(30, register[0].GetProperty("data_subjects").GetInt32());
        Assert.Equal(0, xlsx.ExitCode);
        using (var workbook = SpreadsheetDocument.Open(xlsxFile, false))
        {
            var cells = workbook.WorkbookPart!.WorksheetParts.Single().Worksheet.Descendants<Row>().Select(r => r.Elements<Cell>().Select(c => c.InnerText).ToList()).ToList();
            Assert.Equal(2, cells.Count);
            Assert.Equal("incident", cells[0][0]);
            Assert.Equal(n, cells[1][0]);
            Assert.Contains("ICO-4711", cells[1]);
            Assert.Equal("30", cells[1][cells[0].IndexOf("data_subjects")]);
        }

        var everything = csv.Output + json.Output + string.Join("", File.ReadAllBytes(xlsxFile).Select(b => (char)b));
        Assert.All(people, p => Assert.DoesNotContain(p, everything, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task TheClock_RunsFromAwareness_AndStopsWithADecision()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var (tenant, _) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant, time: clock);
        await agent.ScanAndProcessAsync();
        var id = Assert.Single(await agent.IncidentsAsync()).Id;
        var events = agent.Services.GetRequiredService<EventStore>();
        var actions = agent.Services.GetRequiredService<AuditAgent.Incidents.IncidentActions>();
        var detected = (await agent.IncidentAsync(id)).Incident.DetectedAt;

        clock.Advance(TimeSpan.FromHours(49));
        await events.AnnounceDeadlinesAsync(clock.GetUtcNow(), CancellationToken.None); // 23 hours left: the 24-hour warning
        var composer = agent.Services.GetRequiredService<AuditAgent.Notifications.DigestComposer>();
        var undecided = await composer.RenderAsync(CancellationToken.None);
        await actions.RecordAssessmentAsync(id, new AuditAgent.Core.Breach.BreachAssessment(
            AuditAgent.Core.Breach.RiskLevel.Risk, "customers' addresses", true, null, AuditAgent.Core.Breach.SubjectNotice.No, null, null,
            detected, null, null, null, null), new AuditAgent.Core.Incidents.Actor("dpo@contoso.com"), CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(18));
        await events.AnnounceDeadlinesAsync(clock.GetUtcNow(), CancellationToken.None); // 5 hours left, but decided: no 6-hour warning

        var decided = await composer.RenderAsync(CancellationToken.None);

        var near = (await EventsAsync(agent)).Where(e => e.Type == EventTypes.NotificationDeadlineNear).ToList();
        Assert.Contains("Breach decisions due (GDPR Art. 33: 72 hours from awareness):", undecided.Text, StringComparison.Ordinal);
        Assert.Matches($@"  #{id} \(medium\) due \d{{4}}-\d\d-\d\d \d\d:\d\d UTC, 2[23] hours left", undecided.Text);
        Assert.Contains("color:#b00020;font-weight:bold;", undecided.Html, StringComparison.Ordinal); // under 24 hours: red
        Assert.DoesNotContain("Breach decisions due", decided.Text + decided.Html, StringComparison.Ordinal);
        var register = await agent.Services.GetRequiredService<RegisterQueries>().ListAsync(CancellationToken.None);
        Assert.Single(near);
        Assert.Equal(24, near[0].Data.GetProperty("details").GetProperty("hoursLeftAtMost").GetInt32());
        Assert.False(Assert.Single(register).Late(clock.GetUtcNow()));
    }

    private static async Task<List<PublishedEvent>> EventsAsync(AgentHarness agent)
    {
        var feed = agent.Services.GetRequiredService<EventFeed>();
        var all = new List<PublishedEvent>();
        for (IReadOnlyList<PublishedEvent> page; (page = await feed.AfterAsync(all.Count == 0 ? 0 : all[^1].Id, 500, CancellationToken.None)).Count > 0;)
        {
            all.AddRange(page);
        }

        return all;
    }
}
