using AuditAgent.Core.Incidents;
using AuditAgent.Core.Playbooks;
using AuditAgent.Hosting;
using AuditAgent.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditAgent.Incidents;

public sealed record IncidentRunSummary(int Opened, int Updated, int Suppressed, int ReExposures, int BccFollowUps)
{
    /// <summary>Replies to all (from outside, found by the reply watch, or a colleague's from their own mailbox) put on incidents.</summary>
    public int RepliesToAll { get; init; }

    /// <summary>Two passes of one scan as one: incidents updated in both are counted in each.</summary>
    public IncidentRunSummary Plus(IncidentRunSummary other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new IncidentRunSummary(Opened + other.Opened, Updated + other.Updated, Suppressed + other.Suppressed, ReExposures + other.ReExposures, BccFollowUps + other.BccFollowUps)
        {
            RepliesToAll = RepliesToAll + other.RepliesToAll,
        };
    }
}

/// <summary>Runs the pure incident engine over new findings and stores its decisions in one transaction.</summary>
public sealed class IncidentService(IncidentStore store, IOptions<IncidentOptions> options, TimeProvider time, Telemetry.AgentMetrics metrics, ILogger<IncidentService> logger)
{
    private readonly Lazy<Playbook> _playbook = new(() => options.Value.LoadPlaybook());
    private readonly Lazy<ConsumerDomains> _consumers = new(() => options.Value.LoadConsumerDomains());

    public Playbook Playbook => _playbook.Value;

    public async Task<IncidentRunSummary> ProcessAsync(CancellationToken ct)
    {
        using var activity = Telemetry.AgentTracing.Source.StartActivity("incidents process");
        var rules = options.Value.ToRules();
        var now = time.GetUtcNow();
        var lookBehind = new[] { rules.GroupingWindow, rules.ReExposureWindow, rules.RepeatSenderWindow }.Max();
        var result = await store.ProcessAsync(
            inputs => IncidentEngine.Run(
                inputs.Incidents,
                inputs.KnownMessages,
                inputs.Findings,
                inputs.BccMessages,
                new IncidentContext(rules, new Allowlist(inputs.Allowlist, now), _consumers.Value, _playbook.Value, now),
                inputs.ReplyAlls),
            lookBehind,
            now,
            ct);
        if (result is null)
        {
            return new IncidentRunSummary(0, 0, 0, 0, 0);
        }

        var summary = new IncidentRunSummary(
            result.Changed.Count(i => i.IsNew),
            result.Changed.Count(i => !i.IsNew),
            result.Findings.Count(f => f.SuppressionReason is not null && f.IncidentKey is null),
            result.Findings.Count(f => f.Role == FindingRole.ReExposure),
            result.BccMessages.Count(b => b.IncidentKey is not null))
        {
            RepliesToAll = result.Findings.Count(f => f.Role == FindingRole.ReplyAll) + result.ReplyAlls.Count(r => r.IncidentKey is not null),
        };
        foreach (var opened in result.Changed.Where(i => i.IsNew))
        {
            metrics.IncidentOpened(opened.Severity, opened.DetectedAt - opened.FirstSentAt);
        }

        activity?.SetTag("auditagent.incidents.opened", summary.Opened);
        activity?.SetTag("auditagent.incidents.updated", summary.Updated);
        logger.IncidentsProcessed(summary.Opened, summary.Updated, summary.Suppressed, summary.ReExposures, summary.BccFollowUps, summary.RepliesToAll);
        return summary;
    }
}
