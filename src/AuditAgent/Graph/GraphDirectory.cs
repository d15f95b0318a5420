using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;

namespace AuditAgent.Graph;

/// <summary>A mailbox the agent may scan: a user with a mail address, sign-in enabled or not (shared mailboxes and leavers' are blocked).</summary>
/// <param name="Department">The directory's department of the mailbox's owner, for sensitive lists (HR, a clinic).</param>
public sealed record Mailbox(string Id, string Address, string? DisplayName, bool AccountEnabled = true, string? Department = null);

/// <summary>A person from the directory: a name to address them by and their mail address.</summary>
/// <param name="Language">The directory's preferredLanguage ("de-DE"), when set: mail to this person is written in it where a template exists.</param>
public sealed record DirectoryPerson(string Name, string Address, string? Language = null);

/// <summary>Reads the tenant's verified domains, its users and their managers (User.Read.All, Domain.Read.All).</summary>
public sealed class GraphDirectory(GraphServiceClient client, IOptions<GraphOptions> options, TimeProvider time, Telemetry.AgentMetrics? metrics = null)
{
    private readonly TransientRetry _retry = TransientRetry.From(options.Value, time, metrics);

    /// <summary>A user's preferredLanguage ("de-DE") from the directory; null when not set or the user is not found (mail then goes in the organisation's language).</summary>
    public async Task<string?> LanguageAsync(string userIdOrAddress, CancellationToken ct)
    {
        try
        {
            var user = await _retry.RunAsync(() => client.Users[userIdOrAddress].GetAsync(rc => rc.QueryParameters.Select = ["preferredLanguage"], ct), ct);
            return user?.PreferredLanguage;
        }
        catch (ODataError e) when (e.ResponseStatusCode == 404)
        {
            return null;
        }
    }

    private int _noMailboxSettings;

    /// <summary>A request for mailbox settings was refused with 403: MailboxSettings.Read is not granted.</summary>
    public bool MailboxSettingsDenied => Volatile.Read(ref _noMailboxSettings) == 1;

    /// <summary>
    /// The time zone a person reads their mail in (mailboxSettings.timeZone, a Windows or IANA name), when the
    /// optional MailboxSettings.Read is granted; null otherwise (mail then uses Schedule:TimeZone). A first 403
    /// means the permission is not granted: it is not asked again while the agent runs.
    /// </summary>
    public async Task<TimeZoneInfo?> TimeZoneAsync(string userIdOrAddress, CancellationToken ct)
    {
        if (Volatile.Read(ref _noMailboxSettings) == 1)
        {
            return null;
        }

        try
        {
            var settings = await _retry.RunAsync(() => client.Users[userIdOrAddress].MailboxSettings.GetAsync(cancellationToken: ct), ct);
            // Exchange mostly keeps Windows names ("W. Europe Standard Time"); mail names the IANA one people know.
            var zone = settings?.TimeZone is { Length: > 0 } z && TimeZoneInfo.TryConvertWindowsIdToIanaId(z, out var iana) ? iana : settings?.TimeZone;
            return zone is { Length: > 0 } && TimeZoneInfo.TryFindSystemTimeZoneById(zone, out var found) ? found : null;
        }
        catch (ODataError e) when (e.ResponseStatusCode == 403)
        {
            Volatile.Write(ref _noMailboxSettings, 1);
            return null;
        }
        catch (ODataError e) when (e.ResponseStatusCode == 404)
        {
            return null;
        }
    }

    /// <summary>The manager of a user (by id or address) from the directory, or null when there is none.</summary>
    public async Task<DirectoryPerson?> ManagerAsync(string userIdOrAddress, CancellationToken ct)
    {
        try
        {
            var manager = await _retry.RunAsync(() => client.Users[userIdOrAddress].Manager.GetAsync(cancellationToken: ct), ct) as User;
            var address = manager?.Mail ?? manager?.UserPrincipalName;
            return address is null ? null : new DirectoryPerson(manager!.DisplayName ?? address, address, manager!.PreferredLanguage);
        }
        catch (ODataError e) when (e.ResponseStatusCode == 404)
        {
            return null;
        }
    }

    /// <summary>The tenant's verified domains. $filter on /domains is unreliable, so the filter runs here.</summary>
    public async Task<IReadOnlyList<string>> GetVerifiedDomainsAsync(CancellationToken ct)
    {
        var response = await _retry.RunAsync(() => client.Domains.GetAsync(cancellationToken: ct), ct);
        return (response?.Value ?? [])
            .Where(d => d.IsVerified == true && !string.IsNullOrEmpty(d.Id))
            .Select(d => d.Id!)
            .ToList();
    }

    /// <summary>
    /// mailboxSettings.userPurpose (user, shared, room, equipment, linked, others) of each mailbox, read 20 to a
    /// $batch. Null when MailboxSettings.Read is not granted (the first 403 says so; not asked again while the
    /// agent runs). A mailbox missing from the answer could not be read this time.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>?> PurposesAsync(IReadOnlyList<string> mailboxIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(mailboxIds);
        if (MailboxSettingsDenied)
        {
            return null;
        }

        var batch = new GraphBatch(client, _retry, options.Value.MaxRetryAfterSeconds);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        // The first $batch alone: when it is refused (403), the permission is not granted and the rest is not sent.
        foreach (var part in new[] { mailboxIds.Take(GraphBatch.Limit).ToList(), mailboxIds.Skip(GraphBatch.Limit).ToList() })
        {
            if (part.Count == 0)
            {
                continue;
            }

            var answers = await batch.GetAsync(
                part.Select(id => (id, (Func<HttpRequestMessage>)(() => batch.Get($"/users/{Uri.EscapeDataString(id)}/mailboxSettings?$select=userPurpose")))).ToList(),
                (_, root) => root.TryGetProperty("userPurpose", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "",
                parallelBatches: 4,
                maxAttempts: 5,
                ct);
            if (answers.Values.Any(a => a.Error?.ResponseStatusCode == 403) && !answers.Values.Any(a => a.Error is null))
            {
                Volatile.Write(ref _noMailboxSettings, 1);
                return null;
            }

            foreach (var (id, answer) in answers)
            {
                if (answer.Error is null && answer.Value is { Length: > 0 } purpose)
                {
                    result[id] = purpose.ToLowerInvariant();
                }
            }
        }

        return result;
    }

    /// <summary>Every user with a mail address (sign-in enabled or not), paged through @odata.nextLink.</summary>
    public async Task<IReadOnlyList<Mailbox>> GetMailboxesAsync(CancellationToken ct)
    {
        var result = new List<Mailbox>();
        // Each attempt gets a request of its own (the adapter adds the token to the one it sends).
        var link = await _retry.RunAsync(
            () => ReadUsersPageAsync(
                client.Users.ToGetRequestInformation(rc =>
                {
                    rc.QueryParameters.Select = ["id", "mail", "displayName", "accountEnabled", "userPrincipalName", "department"];
                    rc.QueryParameters.Top = 999;
                }),
                result,
                ct),
            ct);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (link is not null)
        {
            if (!seen.Add(link))
            {
                throw new EndlessPagingException($"Graph sent the same @odata.nextLink twice while listing users (after {result.Count} mailboxes); the directory listing cannot finish");
            }

            var next = link;
            link = await _retry.RunAsync(() => ReadUsersPageAsync(client.Users.WithUrl(next).ToGetRequestInformation(), result, ct), ct);
        }

        return result;
    }

    /// <summary>
    /// One page of users, read as JSON rather than as the SDK's <see cref="User"/> models: each of those builds a
    /// table of its hundred-odd properties' readers, which made listing 20,000 users most of a quiet rescan's work.
    /// Read as the SDK reads them: a value of the wrong JSON type counts as absent.
    /// </summary>
    /// <returns>The @odata.nextLink, or null on the last page.</returns>
    private async Task<string?> ReadUsersPageAsync(RequestInformation request, List<Mailbox> into, CancellationToken ct)
    {
        await using var stream = await client.RequestAdapter.SendPrimitiveAsync<Stream>(request, GraphErrors.Mapping, ct)
            ?? throw new InvalidDataException("Graph returned an empty page of users.");
        using var page = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
        var users = new List<Mailbox>();
        if (page.RootElement.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array)
        {
            foreach (var user in value.EnumerateArray())
            {
                // A blocked sign-in does not undo a disclosure: shared mailboxes and leavers' mailboxes are read too.
                if (Text(user, "mail") is { } mail && !string.IsNullOrWhiteSpace(mail) && Text(user, "id") is { Length: > 0 } id)
                {
                    var department = Text(user, "department");
                    var enabled = user.ValueKind == JsonValueKind.Object && user.TryGetProperty("accountEnabled", out var e)
                        && e.ValueKind == JsonValueKind.False ? false : true;
                    users.Add(new Mailbox(id, mail.Trim(), Text(user, "displayName"), enabled, string.IsNullOrWhiteSpace(department) ? null : department.Trim()));
                }
            }
        }

        // Only a page read whole is kept: a retried page is not added twice.
        into.AddRange(users);
        return Text(page.RootElement, "@odata.nextLink");

        static string? Text(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}

/// <summary>Graph sent an @odata.nextLink it had sent before: following it would never end.</summary>
public sealed class EndlessPagingException(string message) : ExplainedException(message);

/// <summary>Turns Graph failures into the facts the scanner acts on, without message content.</summary>
public static class GraphErrors
{
    /// <summary>What a request sent through the request adapter (not a typed builder) turns an error answer into.</summary>
    internal static readonly Dictionary<string, ParsableFactory<IParsable>> Mapping = new() { ["XXX"] = ODataError.CreateFromDiscriminatorValue };

    /// <summary>
    /// The user has no Exchange Online mailbox (unlicensed, on-premises, soft-deleted): 404
    /// MailboxNotEnabledForRESTAPI or ResourceNotFound. Not a failure of the scan.
    /// </summary>
    public static bool IsNoMailbox(Exception ex) => ex is Microsoft.Graph.Models.ODataErrors.ODataError { ResponseStatusCode: 404 } o
        && o.Error?.Code is { } code
        && (code.Equals("MailboxNotEnabledForRESTAPI", StringComparison.OrdinalIgnoreCase) || code.Equals("ResourceNotFound", StringComparison.OrdinalIgnoreCase));

    /// <summary>Graph lost the sync state: the only cure is a new full sync (410 Gone, SyncStateNotFound, resyncRequired).</summary>
    public static bool IsResyncRequired(Exception ex) => ex switch
    {
        Microsoft.Graph.Models.ODataErrors.ODataError o =>
            o.ResponseStatusCode == 410
            || o.Error?.Code is { } code && (code.Equals("SyncStateNotFound", StringComparison.OrdinalIgnoreCase)
                || code.Equals("resyncRequired", StringComparison.OrdinalIgnoreCase)
                || code.Equals("SyncStateInvalid", StringComparison.OrdinalIgnoreCase)),
        Microsoft.Kiota.Abstractions.ApiException a => a.ResponseStatusCode == 410,
        _ => false,
    };

    /// <summary>One line for status output and logs: the status and Graph's error code, never a body.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        Microsoft.Graph.Models.ODataErrors.ODataError o => $"Graph answered {o.ResponseStatusCode} {o.Error?.Code}: {o.Error?.Message}",
        Microsoft.Kiota.Abstractions.ApiException a => $"Graph answered {a.ResponseStatusCode}: {a.Message}",
        AggregateException { InnerExceptions.Count: > 0 } agg when agg.Message.Contains("retries", StringComparison.OrdinalIgnoreCase) =>
            $"Graph kept throttling or failing after the SDK's retries ({Describe(agg.InnerExceptions[0])})",
        GraphTimeoutException or ExplainedException => ex.Message,
        HttpRequestException h => $"Graph unreachable: {h.Message}",
        TaskCanceledException => "Graph did not answer within the timeout",
        Azure.Identity.AuthenticationFailedException auth => $"Could not get a token: {SignInFailure(auth)}",
        _ => $"{ex.GetType().Name}: {ex.Message}",
    };

    /// <summary>
    /// Azure.Identity's message after its retries repeats each attempt's cause ("(Name or service not
    /// known (login.microsoftonline.com:443))" six times): said once, with what it retried.
    /// </summary>
    private static string SignInFailure(Azure.Identity.AuthenticationFailedException auth)
    {
        var causes = Leaves(auth).Select(e => e.Message).Where(m => m.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var line = auth.Message.Split('\n')[0];
        foreach (var cause in causes)
        {
            line = line.Replace($" ({cause})", "", StringComparison.Ordinal);
        }

        line = line.Replace(" Retry settings can be adjusted in ClientOptions.Retry or by configuring a custom retry policy in ClientOptions.RetryPolicy.", "", StringComparison.Ordinal);
        return causes.Count == 0 || line.Contains(causes[0], StringComparison.Ordinal) ? line : $"{line.TrimEnd()} ({string.Join("; ", causes)})";
    }

    private static IEnumerable<Exception> Leaves(Exception ex) => ex switch
    {
        AggregateException agg => agg.InnerExceptions.SelectMany(Leaves),
        { InnerException: { } inner } when inner is AggregateException || ex is Azure.Identity.AuthenticationFailedException => Leaves(inner),
        _ => [ex],
    };
}
