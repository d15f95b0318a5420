using System.Text.Json;
using AuditAgent.Formatting;
using AuditAgent.Storage;
using Microsoft.Extensions.Options;

namespace AuditAgent.Events;

/// <summary>An event as every consumer gets it (CLI, API, sinks): the stored payload with the console link and, when configured, the subject.</summary>
public sealed record PublishedEvent(long Id, string Type, DateTimeOffset OccurredAt, long? IncidentId, string? Link, string? Subject, JsonElement Data);

/// <summary>Reads the event stream for consumers, adding what depends on today's settings rather than on the moment of the change.</summary>
public sealed class EventFeed(EventStore store, ConsoleLinks links, IOptions<EventsOptions> options)
{
    public const int MaxPage = 1000;

    public async Task<IReadOnlyList<PublishedEvent>> AfterAsync(long after, int limit, CancellationToken ct)
    {
        var rows = await store.ListAsync(Math.Max(0, after), Math.Clamp(limit, 1, MaxPage), options.Value.IncludeSubjects, ct);
        return Publish(rows);
    }

    public async Task<IReadOnlyList<PublishedEvent>> ByIdAsync(IReadOnlyList<long> ids, CancellationToken ct) =>
        Publish(await store.ByIdAsync(ids, options.Value.IncludeSubjects, ct));

    private List<PublishedEvent> Publish(IReadOnlyList<EventRecord> rows)
    {
        return rows.Select(r => new PublishedEvent(r.Id, r.Type, r.OccurredAt, r.IncidentId,
            r.IncidentId is { } id ? links.Incident(id) : null,
            r.Subject is null ? null : SafeText.Clean(r.Subject),
            r.Payload)).ToList();
    }
}
