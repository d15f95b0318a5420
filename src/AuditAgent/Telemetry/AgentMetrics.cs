using System.Diagnostics;
using System.Diagnostics.Metrics;
using AuditAgent.Core.Incidents;

namespace AuditAgent.Telemetry;

/// <summary>
/// The agent's traces: a scan cycle, each mailbox read, each incident pass, each mail sent and each job run.
/// Spans carry counts, outcomes and severities, never an address, a subject or a mailbox's name.
/// </summary>
public static class AgentTracing
{
    public const string SourceName = "AuditAgent";

    public static readonly ActivitySource Source = new(SourceName, typeof(AgentTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Marks <paramref name="activity"/> failed with the exception's type only (its message may name a mailbox).</summary>
    public static void Fail(Activity? activity, Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
        activity?.SetTag("error.type", ex.GetType().FullName);
    }
}

/// <summary>
/// The agent's metrics, every one listed with its unit in docs/operations.md. Counters count what this agent did;
/// the gauges of <see cref="BacklogSampler"/> read the shared database, so every agent of a cluster reports the same.
/// Tags are outcomes, statuses, severities and job names: a bounded set, never an address or a subject.
/// </summary>
public sealed class AgentMetrics
{
    public const string MeterName = "AuditAgent";

    private readonly Counter<long> _cycles;
    private readonly Histogram<double> _cycleDuration;
    private readonly Counter<long> _mailboxes;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _pages;
    private readonly Counter<long> _malformed;
    private readonly Counter<long> _findings;
    private readonly Counter<long> _graphRequests;
    private readonly Counter<long> _throttled;
    private readonly Counter<double> _retryAfter;
    private readonly Counter<long> _incidents;
    private readonly Histogram<double> _detectionLatency;
    private readonly Counter<long> _mail;
    private readonly Counter<long> _jobRuns;
    private readonly Histogram<double> _jobDuration;

    public AgentMetrics(IMeterFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Meter = factory.Create(MeterName, typeof(AgentMetrics).Assembly.GetName().Version?.ToString());
        _cycles = Meter.CreateCounter<long>("auditagent.scan.cycles", "{cycle}", "Scan cycles this agent took part in, by outcome");
        _cycleDuration = Meter.CreateHistogram<double>("auditagent.scan.duration", "s", "How long this agent's part of a scan cycle took, by outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600] });
        _mailboxes = Meter.CreateCounter<long>("auditagent.scan.mailboxes", "{mailbox}", "Mailboxes read, by result (scanned, failed, no_mailbox)");
        _messages = Meter.CreateCounter<long>("auditagent.scan.messages", "{message}", "Sent messages read");
        _pages = Meter.CreateCounter<long>("auditagent.scan.pages", "{page}", "Pages of Sent Items read");
        _malformed = Meter.CreateCounter<long>("auditagent.scan.malformed", "{message}", "Messages skipped as malformed or conflicting");
        _findings = Meter.CreateCounter<long>("auditagent.scan.findings", "{finding}", "New findings stored");
        _graphRequests = Meter.CreateCounter<long>("auditagent.graph.requests", "{request}", "HTTP requests to Graph, each attempt counted, by status code");
        _throttled = Meter.CreateCounter<long>("auditagent.graph.throttled", "{request}", "Requests or $batch parts Graph throttled (429, or 503/504 with Retry-After), by kind");
        _retryAfter = Meter.CreateCounter<double>("auditagent.graph.retry_after", "s", "Seconds Graph asked the agent to wait before trying again");
        _incidents = Meter.CreateCounter<long>("auditagent.incidents.opened", "{incident}", "Incidents opened, by severity");
        _detectionLatency = Meter.CreateHistogram<double>("auditagent.detection.latency", "s", "From the first message's sentDateTime to its incident being opened",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [30, 60, 90, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600] });
        _mail = Meter.CreateCounter<long>("auditagent.mail.sent", "{message}", "Mail from the outbox, by kind (digest, escalation, ...) and result (sent, failed)");
        _jobRuns = Meter.CreateCounter<long>("auditagent.jobs.runs", "{run}", "Scheduled job runs, by job and outcome (succeeded, failed, cancelled)");
        _jobDuration = Meter.CreateHistogram<double>("auditagent.jobs.duration", "s", "How long each job run took, by job and outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600] });
    }

    public Meter Meter { get; }

    public void CycleFinished(string outcome, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _cycles.Add(1, tag);
        _cycleDuration.Record(duration.TotalSeconds, tag);
    }

    public void MailboxRead(string result) => _mailboxes.Add(1, new KeyValuePair<string, object?>("result", result));

    public void PageRead(int messages, int malformed)
    {
        _pages.Add(1);
        _messages.Add(messages);
        if (malformed > 0)
        {
            _malformed.Add(malformed);
        }
    }

    public void FindingsStored(int count)
    {
        if (count > 0)
        {
            _findings.Add(count);
        }
    }

    public void GraphResponse(int statusCode) => _graphRequests.Add(1, new KeyValuePair<string, object?>("http.response.status_code", statusCode));

    /// <summary>An attempt that got no answer (connection reset, timeout): counted by the exception's type.</summary>
    public void GraphFailed(Exception ex) => _graphRequests.Add(1, new KeyValuePair<string, object?>("error.type", ex?.GetType().Name));

    /// <param name="kind">"request" for a whole request, "batch_part" for one request inside a $batch.</param>
    public void Throttled(string kind, TimeSpan? retryAfter)
    {
        _throttled.Add(1, new KeyValuePair<string, object?>("kind", kind));
        if (retryAfter is { } wait)
        {
            _retryAfter.Add(wait.TotalSeconds);
        }
    }

    public void IncidentOpened(Severity severity, TimeSpan sinceSent)
    {
        var tag = new KeyValuePair<string, object?>("severity", severity.Name());
        _incidents.Add(1, tag);
        _detectionLatency.Record(Math.Max(0, sinceSent.TotalSeconds), tag);
    }

    public void MailSent(string kind, bool sent) =>
        _mail.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", sent ? "sent" : "failed"));

    public void JobFinished(string job, string outcome, TimeSpan duration)
    {
        KeyValuePair<string, object?>[] tags = [new("auditagent.job", job), new("outcome", outcome)];
        _jobRuns.Add(1, tags);
        _jobDuration.Record(duration.TotalSeconds, tags);
    }
}
