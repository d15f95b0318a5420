using AuditAgent.Events;
using AuditAgent.Storage;
using Microsoft.AspNetCore.Http;

namespace AuditAgent.Web;

/// <summary>
/// `GET /api/v1/events?after=ID&amp;limit=N` for a SIEM's pull, with an API key (`auditagent apikeys create`) as a
/// bearer token. The same events, in the same shape, as `auditagent events list --format json`.
/// </summary>
internal static class EventsApi
{
    public static async Task<IResult> ListAsync(HttpContext context, ApiKeyStore keys, EventFeed feed, TimeProvider time, long? after, int? limit, CancellationToken ct)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var key = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        if (await keys.VerifyAsync(key, time.GetUtcNow(), ct) is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"AuditAgent events\"";
            return Results.Json(new { error = "a valid API key is required (Authorization: Bearer <key from `auditagent apikeys create`>)" }, statusCode: StatusCodes.Status401Unauthorized);
        }

        if (limit is < 1 or > EventFeed.MaxPage || after is < 0)
        {
            return Results.Json(new { error = $"after must be 0 or more and limit between 1 and {EventFeed.MaxPage}" }, statusCode: StatusCodes.Status400BadRequest);
        }

        var events = await feed.AfterAsync(after ?? 0, limit ?? 100, ct);
        return Results.Json(new { events, last = events.Count == 0 ? after ?? 0 : events[^1].Id }, Cli.IncidentsCommand.Json);
    }
}
