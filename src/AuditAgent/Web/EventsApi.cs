using AuditAgent.Events;
using AuditAgent.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace AuditAgent.Web;

/// <summary>
/// `GET /api/v1/events?after=ID&amp;limit=N` for a SIEM's pull. The caller shows either an Entra app-only token
/// for the console's app registration carrying the app role AuditAgent.EventsReader, or an API key
/// (`auditagent apikeys create`), as a bearer token. The same events, in the same shape, as
/// `auditagent events list --format json`.
/// </summary>
internal static class EventsApi
{
    /// <summary>The authentication scheme of app-only tokens.</summary>
    public const string Scheme = "EntraAppToken";

    /// <summary>The app role an application needs to read events.</summary>
    public const string ReaderRole = "AuditAgent.EventsReader";

    public static async Task<IResult> ListAsync(HttpContext context, ApiKeyStore keys, EventFeed feed, TimeProvider time, long? after, int? limit, CancellationToken ct)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var bearer = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        if (bearer is not null && bearer.Count(c => c == '.') == 2)
        {
            var result = await context.AuthenticateAsync(Scheme);
            if (!result.Succeeded)
            {
                return Refused(context, "the token was refused (it must be an Entra token of this tenant for the console's app, not expired)");
            }

            if (!result.Principal.IsInRole(ReaderRole))
            {
                return Results.Json(new { error = $"the application has no app role {ReaderRole} (an admin grants it in Entra ID: the console's app, API permissions)" }, statusCode: StatusCodes.Status403Forbidden);
            }
        }
        else if (await keys.VerifyAsync(bearer, time.GetUtcNow(), ct) is null)
        {
            return Refused(context, "a valid API key or Entra app token is required (Authorization: Bearer <key from `auditagent apikeys create`, or a token with the role AuditAgent.EventsReader>)");
        }

        if (limit is < 1 or > EventFeed.MaxPage || after is < 0)
        {
            return Results.Json(new { error = $"after must be 0 or more and limit between 1 and {EventFeed.MaxPage}" }, statusCode: StatusCodes.Status400BadRequest);
        }

        var events = await feed.AfterAsync(after ?? 0, limit ?? 100, ct);
        return Results.Json(new { events, last = events.Count == 0 ? after ?? 0 : events[^1].Id }, Cli.IncidentsCommand.Json);
    }

    private static IResult Refused(HttpContext context, string error)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"AuditAgent events\"";
        return Results.Json(new { error }, statusCode: StatusCodes.Status401Unauthorized);
    }
}
