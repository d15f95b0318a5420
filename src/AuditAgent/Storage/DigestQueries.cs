using System.Text.Json;
using AuditAgent.Core.Incidents;
using AuditAgent.Core.Scans;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>Gathers the daily digest's facts.</summary>
public sealed class DigestQueries(Database database, StatusQueries status)
{
    public async Task<DigestModel> BuildAsync(DateTimeOffset periodStart, DateTimeOffset now, TimeZoneInfo zone, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(zone);
        await using var c = await database.OpenAsync(ct);

        var steps = (await c.QueryAsync<PlanStepRow>(database.Command(
            $"""
            SELECT s.* FROM plan_steps s JOIN incidents i ON i.id = s.incident_id
            WHERE {SqlFragments.StepTodo("s.status")} AND {SqlFragments.OpenIncident("i.status")}
            ORDER BY s.due_at
            """, ct: ct))).ToList();
        var nextStep = steps.GroupBy(s => s.IncidentId).ToDictionary(g => g.Key, g => g.First());
        var names = (await c.QueryAsync<(long IncidentId, string? Name)>(database.Command(
            "SELECT incident_id, MIN(sender_name) FROM findings WHERE incident_id IS NOT NULL AND detected_at >= @since GROUP BY incident_id",
            new { since = periodStart.AddDays(-31) }, ct: ct))).ToDictionary(x => x.IncidentId, x => x.Name);

        DigestIncident ToDigest(IncidentRow i)
        {
            var step = nextStep.GetValueOrDefault(i.Id);
            return new DigestIncident(i.Id, i.Severity, i.Status, i.SenderAddress, names.GetValueOrDefault(i.Id), i.Subject, i.ExposedCount, i.PersonalCount, i.ReExposed, i.RepeatSender,
                JsonSerializer.Deserialize<List<string>>(i.Reasons) ?? [], i.DetectedAt, step?.Title, step?.Owner, step?.DueAt);
        }

        var fresh = (await c.QueryAsync<IncidentRow>(database.Command(
            $"""
            SELECT * FROM incidents WHERE detected_at >= @periodStart AND detected_at < @now
            ORDER BY {SqlFragments.SeverityRank()}, detected_at
            """,
            new { periodStart, now }, ct: ct))).Select(ToDigest).ToList();
        var reExposed = (await c.QueryAsync<IncidentRow>(database.Command(
            $"""
            SELECT * FROM incidents WHERE id IN (
                SELECT incident_id FROM incident_events WHERE kind = '{TimelineKind.ReExposure.Name()}' AND at >= @periodStart AND at < @now)
            ORDER BY id
            """,
            new { periodStart, now }, ct: ct))).Select(ToDigest).ToList();

        var open = (await c.QueryAsync<(long Id, string Severity, DateTimeOffset DetectedAt)>(database.Command(
            $"SELECT id, severity, detected_at FROM incidents WHERE {SqlFragments.OpenIncident()}", ct: ct))).ToList();
        var bySeverity = SeverityOrder.NamesMostSevereFirst
            .Select(sev =>
            {
                var ages = open.Where(o => o.Severity == sev).Select(o => now - o.DetectedAt).ToList();
                return new SeverityAge(sev, ages.Count, ages.Count(a => a < TimeSpan.FromDays(3)),
                    ages.Count(a => a >= TimeSpan.FromDays(3) && a < TimeSpan.FromDays(7)), ages.Count(a => a >= TimeSpan.FromDays(7)));
            })
            .ToList();

        var severities = open.ToDictionary(x => x.Id, x => x.Severity);
        var overdue = steps.Where(s => s.DueAt < now)
            .Select(s => new OverdueStep(s.IncidentId, severities.GetValueOrDefault(s.IncidentId, "?"), s.Title, s.Owner, s.DueAt))
            .ToList();

        var repeat = (await c.QueryAsync<(string Sender, int Count)>(database.Command(
            $"""
            SELECT sender_address, CAST(COUNT(*) AS INTEGER) FROM incidents
            WHERE first_sent_at >= @since AND status <> '{IncidentStatus.FalsePositive.Name()}'
            GROUP BY sender_address HAVING COUNT(*) > 1 ORDER BY COUNT(*) DESC, sender_address
            """,
            new { since = now.AddDays(-90) }, ct: ct))).Select(r => new RepeatSender(r.Sender, r.Count)).ToList();

        var suppressed = (await c.QueryAsync<string>(database.Command(
            "SELECT suppression_reason FROM findings WHERE suppression_reason IS NOT NULL AND incident_id IS NULL AND processed_at >= @periodStart AND processed_at < @now",
            new { periodStart, now }, ct: ct)))
            .GroupBy(ReasonKind)
            .Select(g => new SuppressedCount(g.Key, g.Count()))
            .OrderByDescending(s => s.Findings)
            .ToList();

        var lastScan = await c.QuerySingleOrDefaultAsync<(DateTimeOffset StartedAt, string Status)?>(database.Command(
            $"SELECT started_at, status FROM scan_runs WHERE status <> '{ScanOutcome.Running.Name()}' ORDER BY id DESC LIMIT 1", ct: ct));
        var mailboxes = (await c.QueryAsync<(string Address, string? LastError, DateTimeOffset? LastSyncedAt)>(database.Command(
            "SELECT address, last_error, last_synced_at FROM mailboxes", ct: ct))).ToList();
        var worstLag = mailboxes.Count == 0 ? (TimeSpan?)null : mailboxes.Max(m => m.LastSyncedAt is { } t ? now - t : TimeSpan.MaxValue);
        var jobFailure = await c.QuerySingleOrDefaultAsync<string?>(database.Command(
            $"""
            SELECT job || ': ' || error FROM job_runs
            WHERE status = '{ScanOutcome.Failed.Name()}' AND started_at >= @periodStart ORDER BY id DESC LIMIT 1
            """,
            new { periodStart }, ct: ct));
        var health = new ScanHealth(lastScan?.StartedAt, lastScan?.Status, mailboxes.Count,
            mailboxes.Where(m => m.LastError is not null).Select(m => new FailedMailbox(m.Address, m.LastError!)).ToList(),
            worstLag == TimeSpan.MaxValue ? null : worstLag, jobFailure)
        {
            TroubledSinks = (await status.SinksAsync(ct)).Where(s => s.DeadLetters > 0 || s.Attempts > 0).ToList(),
        };

        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        var firstDay = today.AddDays(-13);
        var detected = (await c.QueryAsync<(DateTimeOffset DetectedAt, string Severity)>(database.Command(
            "SELECT detected_at, severity FROM incidents WHERE detected_at >= @since",
            new { since = now.AddDays(-15) }, ct: ct))).ToList();
        var trend = Enumerable.Range(0, 14).Select(d => firstDay.AddDays(d)).Select(day =>
        {
            var onDay = detected.Where(x => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(x.DetectedAt, zone).DateTime) == day).ToList();
            return new TrendDay(day, onDay.Count(x => x.Severity == "low"), onDay.Count(x => x.Severity == "medium"),
                onDay.Count(x => x.Severity == "high"), onDay.Count(x => x.Severity == "critical"));
        }).ToList();

        var answers = (await c.QueryAsync<(long IncidentId, string Answer, string Recipient, string? Detail, DateTimeOffset At)>(database.Command(
            "SELECT incident_id, answer, recipient, detail, at FROM mail_answers WHERE at >= @periodStart AND at <= @now ORDER BY at", new { periodStart, now }, ct: ct)))
            .Select(a => new MailAnswerLine(a.IncidentId, a.Recipient, MailAnswers.TryParse(a.Answer, out MailAnswer answer) ? answer.Timeline(a.Recipient, a.Detail) : a.Answer, a.At))
            .ToList();
        // ... and the questions left unanswered (Notifications:AskSender), which the agent itself recorded.
        answers.AddRange((await c.QueryAsync<(long IncidentId, string Text, DateTimeOffset At)>(database.Command(
            $"SELECT incident_id, text, at FROM incident_events WHERE kind = '{TimelineKind.Answer.Name()}' AND actor = 'AuditAgent' AND at >= @periodStart AND at <= @now",
            new { periodStart, now }, ct: ct))).Select(a => new MailAnswerLine(a.IncidentId, "AuditAgent", a.Text, a.At)));
        answers.Sort((a, b) => a.At.CompareTo(b.At));
        var decisions = (await c.QueryAsync<(long Id, string Severity, DateTimeOffset AwareAt)>(database.Command(
            $"SELECT id, severity, {SqlFragments.Awareness()} FROM incidents WHERE {SqlFragments.DecisionMissing()} ORDER BY {SqlFragments.Awareness()}, id LIMIT 50", ct: ct)))
            .Select(d => (d.Id, d.Severity, Due: NotificationClock.DueAt(d.AwareAt)))
            .Select(d => new DecisionDue(d.Id, d.Severity, d.Due, (d.Due - now).TotalHours))
            .ToList();
        return new DigestModel(today, zone.Id, periodStart, now, fresh, reExposed, bySeverity, overdue, repeat, suppressed, health, trend) { Answers = answers, DecisionsDue = decisions };
    }

    /// <summary>The kind of a suppression reason, without the entry details: what the digest counts by.</summary>
    internal static string ReasonKind(string reason)
    {
        var cut = reason.IndexOfAny([':', '(']);
        return (cut < 0 ? reason : reason[..cut]).Trim();
    }
}
