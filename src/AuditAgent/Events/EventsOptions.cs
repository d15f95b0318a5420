using AuditAgent.Configuration;
using AuditAgent.Core.Incidents;
using Microsoft.Extensions.Options;

namespace AuditAgent.Events;

/// <summary>Section "Events": what the event stream tells its consumers, and where it is pushed (docs/events.md).</summary>
public sealed class EventsOptions
{
    public const string Section = "Events";

    /// <summary>Add the incident's subject to each event. Off by default: a subject can name a person or a matter.</summary>
    public bool IncludeSubjects { get; set; }

    /// <summary>Where `run` pushes the stream; each sink optional, several of each at once.</summary>
    public SinksOptions Sinks { get; set; } = new();

    /// <summary>How often `run` looks for events to push.</summary>
    [Within(1, 3600)]
    public int PushEverySeconds { get; set; } = 5;

    /// <summary>Attempts at one event (each with its quick retries) before it is set aside as a dead letter and the next one goes.</summary>
    [Within(1, 100)]
    public int MaxAttempts { get; set; } = 10;

    /// <summary>Retries within one attempt, after a network failure, a 408, 429 or 5xx: exponential with jitter, honouring Retry-After.</summary>
    [Within(0, 5)]
    public int QuickRetries { get; set; } = 2;
}

/// <summary>Section "Events:Sinks".</summary>
public sealed class SinksOptions
{
    /// <summary>Receivers every event is POSTed to, signed as the Standard Webhooks specification describes.</summary>
    public List<WebhookSinkOptions> Webhooks { get; set; } = [];

    /// <summary>Microsoft Teams channels (a Workflows "when a webhook request is received" URL) that get an Adaptive Card per event.</summary>
    public List<TeamsSinkOptions> Teams { get; set; } = [];

    /// <summary>Syslog receivers (Splunk, QRadar, ArcSight, Sentinel's syslog connector) that get each event as a CEF record.</summary>
    public List<SyslogSinkOptions> Syslog { get; set; } = [];

    /// <summary>Microsoft Sentinel / Log Analytics custom tables fed through the Logs Ingestion API.</summary>
    public List<SentinelSinkOptions> Sentinel { get; set; } = [];

    /// <summary>ServiceNow instances: one incident record per AuditAgent incident.</summary>
    public List<ServiceNowSinkOptions> ServiceNow { get; set; } = [];

    public IEnumerable<(string Key, SinkOptions Sink)> All() =>
        Webhooks.Select((s, i) => ($"Webhooks:{i}", (SinkOptions)s))
            .Concat(Teams.Select((s, i) => ($"Teams:{i}", (SinkOptions)s)))
            .Concat(Syslog.Select((s, i) => ($"Syslog:{i}", (SinkOptions)s)))
            .Concat(Sentinel.Select((s, i) => ($"Sentinel:{i}", (SinkOptions)s)))
            .Concat(ServiceNow.Select((s, i) => ($"ServiceNow:{i}", (SinkOptions)s)));
}

/// <summary>What every sink has: a name (the key of its checkpoint) and its filters.</summary>
public abstract class SinkOptions
{
    /// <summary>A name for status and logs; also the key of its checkpoint (rename it and it starts again from the newest event).</summary>
    public string Name { get; set; } = "";

    /// <summary>Only these event types; the sink's defaults when empty.</summary>
    public List<string> Types { get; set; } = [];

    /// <summary>Only events about incidents of at least this severity (low, medium, high, critical); events without an incident (scan.failed, agent.lost ...) always pass. Teams channels: high unless set.</summary>
    public string? MinSeverity { get; set; }

    /// <summary>The events this sink takes when <see cref="Types"/> is empty (every one unless the sink says otherwise).</summary>
    public virtual IReadOnlyList<string> DefaultTypes => [];

    public bool Wants(string type, Severity? severity) =>
        ((Types.Count > 0 ? Types : DefaultTypes) is var types && (types.Count == 0 || types.Contains(type, StringComparer.Ordinal)))
        && (severity is null || !SeverityNames.TryParse(MinSeverity, out var min) || severity >= min);
}

/// <summary>One webhook receiver.</summary>
public sealed class WebhookSinkOptions : SinkOptions
{
    public string Url { get; set; } = "";

    /// <summary>whsec_ secrets; each event is signed with every one (two while rotating).</summary>
    public List<string> Secrets { get; set; } = [];
}

/// <summary>One Teams channel: by default new high and critical incidents, their re-exposures and clocks, and health alarms.</summary>
public sealed class TeamsSinkOptions : SinkOptions
{
    public TeamsSinkOptions() => MinSeverity = "high";

    /// <summary>What a channel gets by default: what someone should look at now.</summary>
    public static readonly IReadOnlyList<string> Defaults =
    [
        Core.Events.EventTypes.IncidentOpened, Core.Events.EventTypes.IncidentReExposed, Core.Events.EventTypes.IncidentReplyAll, Core.Events.EventTypes.IncidentSeverityRaised,
        Core.Events.EventTypes.NotificationDeadlineNear, Core.Events.EventTypes.ScanFailed, Core.Events.EventTypes.AgentLost,
    ];

    /// <summary>The Workflows webhook URL (it carries its own signature; keep it in the environment).</summary>
    public string Url { get; set; } = "";

    public override IReadOnlyList<string> DefaultTypes => Defaults;
}

public enum SyslogTransport
{
    /// <summary>TCP with octet counting (RFC 6587).</summary>
    Tcp,

    /// <summary>TLS (RFC 5425), the same framing inside.</summary>
    Tls,
}

/// <summary>One syslog receiver.</summary>
public sealed class SyslogSinkOptions : SinkOptions
{
    public string Host { get; set; } = "";

    public int Port { get; set; } = 6514;

    public SyslogTransport Transport { get; set; } = SyslogTransport.Tls;

    /// <summary>A PEM file with the CA that signed the receiver's certificate, when it is not one the machine trusts.</summary>
    public string? CaFile { get; set; }

    /// <summary>Syslog facility (0-23); 10 is security/authorization (authpriv), 13 log audit, 16-23 local0-7.</summary>
    public int Facility { get; set; } = 10;
}

/// <summary>One Logs Ingestion API destination (a data collection rule and its stream).</summary>
public sealed class SentinelSinkOptions : SinkOptions
{
    /// <summary>The data collection endpoint's logs ingestion URL, e.g. https://auditagent-abcd.westeurope-1.ingest.monitor.azure.com.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>The data collection rule's immutable id (dcr-...).</summary>
    public string RuleId { get; set; } = "";

    /// <summary>The DCR's input stream for the custom table.</summary>
    public string Stream { get; set; } = "Custom-AuditAgentEvents_CL";

    /// <summary>For the tenant simulator only: a fixed bearer token instead of the Graph credential's token for monitor.azure.com.</summary>
    public string? AccessToken { get; set; }
}

/// <summary>One ServiceNow instance.</summary>
public sealed class ServiceNowSinkOptions : SinkOptions
{
    /// <summary>What a ServiceNow record follows by default: every incident event (not scan.failed or agent.lost, which have no incident).</summary>
    public static readonly IReadOnlyList<string> Defaults =
    [
        Core.Events.EventTypes.IncidentOpened, Core.Events.EventTypes.IncidentReExposed, Core.Events.EventTypes.IncidentReplyAll, Core.Events.EventTypes.IncidentSeverityRaised,
        Core.Events.EventTypes.IncidentAcknowledged, Core.Events.EventTypes.IncidentAssigned, Core.Events.EventTypes.StepDone,
        Core.Events.EventTypes.StepSkipped, Core.Events.EventTypes.StepOverdue, Core.Events.EventTypes.NotificationDeadlineNear,
        Core.Events.EventTypes.IncidentResolved, Core.Events.EventTypes.IncidentFalsePositive, Core.Events.EventTypes.IncidentReopened,
    ];

    /// <summary>The instance, e.g. https://contoso.service-now.com.</summary>
    public string Instance { get; set; } = "";

    /// <summary>Basic auth: the integration user and a file holding its password.</summary>
    public string? Username { get; set; }

    public string? PasswordFile { get; set; }

    /// <summary>OAuth client credentials (an Application Registry entry): the client id and a file holding its secret.</summary>
    public string? ClientId { get; set; }

    public string? ClientSecretFile { get; set; }

    /// <summary>The assignment group new records go to (its name or sys_id); none when empty.</summary>
    public string? AssignmentGroup { get; set; }

    /// <summary>The category of new records.</summary>
    public string Category { get; set; } = "security";

    public override IReadOnlyList<string> DefaultTypes => Defaults;
}

[OptionsValidator]
internal sealed partial class EventsOptionsValidator : IValidateOptions<EventsOptions>;

/// <summary>Each sink needs a name of its own, a reachable address over a safe transport, and its credentials.</summary>
internal sealed class EventSinksValidator : IValidateOptions<EventsOptions>
{
    public ValidateOptionsResult Validate(string? name, EventsOptions o)
    {
        var errors = new List<string>();
        var names = new List<string>();
        foreach (var (index, sink) in o.Sinks.All())
        {
            var key = $"{EventsOptions.Section}:Sinks:{index}";
            if (string.IsNullOrWhiteSpace(sink.Name))
            {
                errors.Add(OptionsValidation.Missing(key, nameof(sink.Name)));
            }
            else if (names.Contains(sink.Name, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{key}:Name '{sink.Name}' is used by another sink; each keeps its own checkpoint.");
            }

            names.Add(sink.Name);
            if (sink.MinSeverity is { Length: > 0 } min && !SeverityNames.TryParse(min, out _))
            {
                errors.Add($"{key}:MinSeverity must be low, medium, high or critical (it is '{min}').");
            }

            foreach (var type in sink.Types.Where(t => !Core.Events.EventTypes.All.Contains(t, StringComparer.Ordinal)))
            {
                errors.Add($"{key}:Types has '{type}', which is not an event type (docs/events.md lists them).");
            }

            errors.AddRange(sink switch
            {
                WebhookSinkOptions w => Webhook(key, w),
                TeamsSinkOptions t => Url(key, nameof(t.Url), t.Url, "the URL of a Teams Workflows webhook"),
                SyslogSinkOptions s => Syslog(key, s),
                SentinelSinkOptions s => Sentinel(key, s),
                ServiceNowSinkOptions s => ServiceNow(key, s),
                _ => [],
            });
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static IEnumerable<string> Url(string key, string property, string url, string what) =>
        OptionsValidation.IsHttpsOrLoopback(url) ? [] : [$"{key}:{property} must be {what}, https (plain http only for localhost) (it is '{url}')."];

    private static IEnumerable<string> Webhook(string key, WebhookSinkOptions w)
    {
        foreach (var e in Url(key, nameof(w.Url), w.Url, "the receiver's URL"))
        {
            yield return e;
        }

        if (w.Secrets.Count == 0 || w.Secrets.Any(s => Sinks.WebhookSignature.KeyOf(s) is null))
        {
            yield return $"{key}:Secrets needs one or two secrets written whsec_<base64> (e.g. from `openssl rand -base64 32`, prefixed with whsec_).";
        }
    }

    private static IEnumerable<string> Syslog(string key, SyslogSinkOptions s)
    {
        if (string.IsNullOrWhiteSpace(s.Host))
        {
            yield return OptionsValidation.Missing(key, nameof(s.Host));
        }

        if (s.Port is < 1 or > 65535)
        {
            yield return OptionsValidation.Range(key, nameof(s.Port), s.Port, 1, 65535);
        }

        if (s.Facility is < 0 or > 23)
        {
            yield return OptionsValidation.Range(key, nameof(s.Facility), s.Facility, 0, 23);
        }

        if (s.Transport == SyslogTransport.Tcp && !OptionsValidation.IsLoopbackHost(s.Host))
        {
            yield return $"{key}:Transport Tcp sends events in clear text; use Tls (RFC 5425) for '{s.Host}' (plain TCP only to this machine, e.g. a local forwarder).";
        }

        if (s.CaFile is { Length: > 0 } ca && !File.Exists(ca))
        {
            yield return $"{key}:CaFile: cannot read {ca}.";
        }
    }

    private static IEnumerable<string> Sentinel(string key, SentinelSinkOptions s)
    {
        foreach (var e in Url(key, nameof(s.Endpoint), s.Endpoint, "the data collection endpoint's logs ingestion URL"))
        {
            yield return e;
        }

        if (string.IsNullOrWhiteSpace(s.RuleId))
        {
            yield return OptionsValidation.Missing(key, nameof(s.RuleId));
        }

        if (!s.Stream.StartsWith("Custom-", StringComparison.Ordinal))
        {
            yield return $"{key}:Stream must name the DCR's input stream, Custom-<table> (it is '{s.Stream}').";
        }
    }

    private static IEnumerable<string> ServiceNow(string key, ServiceNowSinkOptions s)
    {
        foreach (var e in Url(key, nameof(s.Instance), s.Instance, "the instance URL"))
        {
            yield return e;
        }

        var basic = !string.IsNullOrWhiteSpace(s.Username);
        var oauth = !string.IsNullOrWhiteSpace(s.ClientId);
        if (basic == oauth)
        {
            yield return $"{key}: set either Username and PasswordFile (basic auth) or ClientId and ClientSecretFile (OAuth client credentials).";
        }
        else if (basic && string.IsNullOrWhiteSpace(s.PasswordFile))
        {
            yield return OptionsValidation.Missing(key, nameof(s.PasswordFile));
        }
        else if (oauth && string.IsNullOrWhiteSpace(s.ClientSecretFile))
        {
            yield return OptionsValidation.Missing(key, nameof(s.ClientSecretFile));
        }
    }
}
