using System.Globalization;
using System.Text.Json;
using AuditAgent.Core.Events;
using AuditAgent.Core.Incidents;

namespace AuditAgent.Events.Sinks;

/// <summary>A destination of the event stream. The pusher owns order, checkpoints, retries and dead letters; a sink only sends.</summary>
public interface IEventSink
{
    SinkOptions Options { get; }

    /// <summary>How many events one <see cref="SendAsync"/> may carry (1 for a request per event).</summary>
    int BatchSize { get; }

    /// <summary>Sends the events, in order; never throws for a receiver's failure, it answers with it.</summary>
    Task<Delivery> SendAsync(IReadOnlyList<PublishedEvent> events, CancellationToken ct);
}

/// <summary>What a receiver did with a send: took it (no error), or why not, whether trying again may help, and how long it asked us to wait.</summary>
public sealed record Delivery(string? Error, bool Transient = true, TimeSpan? RetryAfter = null)
{
    public static readonly Delivery Taken = new((string?)null);

    public bool Ok => Error is null;

    /// <summary>An HTTP answer: 2xx taken; 408, 429 and 5xx worth retrying soon (with the Retry-After it gave); any other a refusal.</summary>
    public static Delivery Of(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.IsSuccessStatusCode)
        {
            return Taken;
        }

        var status = (int)response.StatusCode;
        var transient = status is 408 or 429 || status >= 500;
        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        return new Delivery(string.Create(CultureInfo.InvariantCulture, $"HTTP {status}"), transient, retryAfter);
    }

    /// <summary>A send that failed before an answer (network, TLS, no answer in time).</summary>
    public static Delivery Failed(Exception ex) => new(ex switch
    {
        TaskCanceledException or TimeoutException => "no answer in time",
        HttpRequestException { HttpRequestError: var kind, StatusCode: null } => $"{kind}: {ex.Message}",
        _ => ex.Message,
    });
}

/// <summary>What every sink reads from an event: the incident as the event saw it, in typed form.</summary>
public static class EventFacts
{
    public static JsonElement? Incident(this PublishedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Data.TryGetProperty("incident", out var i) && i.ValueKind == JsonValueKind.Object ? i : null;
    }

    public static Severity? Severity(this PublishedEvent e) =>
        e.Incident() is { } i && SeverityNames.TryParse(i.GetProperty("severity").GetString(), out var s) ? s : null;

    public static string? Text(this JsonElement? element, string property) =>
        element is { } e && e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static int Number(this JsonElement? element, string property) =>
        element is { } e && e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : 0;

    public static string? Detail(this PublishedEvent e, string property)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Data.TryGetProperty("details", out var d) && d.TryGetProperty(property, out var v)
            ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()
            : null;
    }

    /// <summary>One line a person reads in a channel, a ticket or a SIEM: what happened, never an exposed address.</summary>
    public static string Title(this PublishedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var id = e.IncidentId?.ToString(CultureInfo.InvariantCulture);
        return e.Type switch
        {
            EventTypes.IncidentOpened => $"Privacy incident #{id} opened",
            EventTypes.IncidentReExposed => $"Incident #{id}: the same people were exposed again",
            EventTypes.IncidentReplyAll => $"Incident #{id}: someone replied to all, exposing the list again",
            EventTypes.IncidentSeverityRaised => $"Incident #{id}: severity raised",
            EventTypes.IncidentAcknowledged => $"Incident #{id} acknowledged",
            EventTypes.IncidentAssigned => $"Incident #{id} assigned",
            EventTypes.StepDone => $"Incident #{id}: a plan step was done",
            EventTypes.StepSkipped => $"Incident #{id}: a plan step was skipped",
            EventTypes.IncidentResolved => $"Incident #{id} resolved",
            EventTypes.IncidentFalsePositive => $"Incident #{id} closed as a false positive",
            EventTypes.IncidentReopened => $"Incident #{id} reopened",
            EventTypes.NotificationDeadlineNear => $"Incident #{id}: the 72-hour notification clock has at most {e.Detail("hoursLeftAtMost")} hours left",
            EventTypes.StepOverdue => $"Incident #{id}: a plan step is overdue",
            EventTypes.ScanFailed => "AuditAgent: a scan failed",
            EventTypes.MailboxFailing => "AuditAgent: a mailbox has failed every scan for a day",
            EventTypes.AgentLost => "AuditAgent: an agent of the cluster stopped checking in",
            _ => id is null ? e.Type : $"Incident #{id}: {e.Type}",
        };
    }

    /// <summary>"30 people in 5 organisations (2 private mailboxes)".</summary>
    public static string? Exposure(this PublishedEvent e) =>
        e.Incident() is { } i
            ? string.Create(CultureInfo.InvariantCulture, $"{Number(i, "exposed")} people in {Number(i, "domains")} organisations ({Number(i, "personal")} private mailboxes)")
            : null;
}
