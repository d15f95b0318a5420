using AuditAgent.Configuration;
using Microsoft.Extensions.Options;

namespace AuditAgent.Events;

/// <summary>Section "Events": what the event stream tells its consumers, and where it is pushed (docs/events.md).</summary>
public sealed class EventsOptions
{
    public const string Section = "Events";

    /// <summary>Add the incident's subject to each event. Off by default: a subject can name a person or a matter.</summary>
    public bool IncludeSubjects { get; set; }

    /// <summary>Receivers the agent POSTs every event to, signed as the Standard Webhooks specification describes.</summary>
    public List<WebhookSink> Webhooks { get; set; } = [];

    /// <summary>Microsoft Teams channels (a Workflows "when a webhook request is received" URL) that get an Adaptive Card per event.</summary>
    public List<TeamsSink> Teams { get; set; } = [];

    /// <summary>How often `run` looks for events to push.</summary>
    [Within(1, 3600)]
    public int PushEverySeconds { get; set; } = 5;

    /// <summary>Attempts at one event before it is set aside as a dead letter (`events sinks` shows them) and the next one goes.</summary>
    [Within(1, 100)]
    public int MaxAttempts { get; set; } = 10;
}

/// <summary>One webhook receiver.</summary>
public sealed class WebhookSink
{
    /// <summary>A name for status and logs; also the key of its checkpoint (rename it and it starts again from the newest event).</summary>
    public string Name { get; set; } = "";

    public string Url { get; set; } = "";

    /// <summary>whsec_ secrets; each event is signed with every one (two while rotating).</summary>
    public List<string> Secrets { get; set; } = [];

    /// <summary>Only these event types (all when empty).</summary>
    public List<string> Types { get; set; } = [];
}

/// <summary>One Teams channel.</summary>
public sealed class TeamsSink
{
    /// <summary>The events a channel gets when Types is empty: what someone should look at now.</summary>
    public static readonly IReadOnlyList<string> DefaultTypes =
    [
        Core.Events.EventTypes.IncidentOpened, Core.Events.EventTypes.IncidentReExposed, Core.Events.EventTypes.IncidentSeverityRaised,
        Core.Events.EventTypes.NotificationDeadlineNear, Core.Events.EventTypes.ScanFailed,
    ];

    /// <summary>A name for status and logs, and the key of its checkpoint.</summary>
    public string Name { get; set; } = "";

    /// <summary>The Workflows webhook URL (it carries its own signature; keep it in the environment).</summary>
    public string Url { get; set; } = "";

    /// <summary>Only these event types; <see cref="DefaultTypes"/> when empty.</summary>
    public List<string> Types { get; set; } = [];
}

[OptionsValidator]
internal sealed partial class EventsOptionsValidator : IValidateOptions<EventsOptions>;

/// <summary>Each webhook needs a name of its own, an https URL (http only for localhost) and at least one well-formed secret.</summary>
internal sealed class WebhookSinksValidator : IValidateOptions<EventsOptions>
{
    public ValidateOptionsResult Validate(string? name, EventsOptions o)
    {
        var errors = new List<string>();
        for (var i = 0; i < o.Webhooks.Count; i++)
        {
            var w = o.Webhooks[i];
            var key = $"{EventsOptions.Section}:Webhooks:{i}";
            if (string.IsNullOrWhiteSpace(w.Name))
            {
                errors.Add(OptionsValidation.Missing(key, nameof(w.Name)));
            }
            else if (o.Webhooks.Take(i).Any(x => string.Equals(x.Name, w.Name, StringComparison.OrdinalIgnoreCase)))
            {
                errors.Add($"{key}:Name '{w.Name}' is used by another webhook; each keeps its own checkpoint.");
            }

            if (!OptionsValidation.IsHttpsOrLoopback(w.Url))
            {
                errors.Add($"{key}:Url must be an https URL (plain http only for localhost) (it is '{w.Url}').");
            }

            if (w.Secrets.Count == 0 || w.Secrets.Any(s => WebhookSignature.KeyOf(s) is null))
            {
                errors.Add($"{key}:Secrets needs one or two secrets written whsec_<base64> (e.g. from `openssl rand -base64 32`, prefixed with whsec_).");
            }
        }

        var names = o.Webhooks.Select(w => w.Name).ToList();
        for (var i = 0; i < o.Teams.Count; i++)
        {
            var t = o.Teams[i];
            var key = $"{EventsOptions.Section}:Teams:{i}";
            if (string.IsNullOrWhiteSpace(t.Name))
            {
                errors.Add(OptionsValidation.Missing(key, nameof(t.Name)));
            }
            else if (names.Contains(t.Name, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{key}:Name '{t.Name}' is used by another sink; each keeps its own checkpoint.");
            }

            names.Add(t.Name);
            if (!OptionsValidation.IsHttpsOrLoopback(t.Url))
            {
                errors.Add($"{key}:Url must be the https URL of a Teams Workflows webhook (it is '{t.Url}').");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
