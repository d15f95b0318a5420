using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AuditAgent.Simulator;

internal sealed record SimRequest(
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Query,
    IReadOnlyDictionary<string, string> Headers,
    JsonNode? Body,
    string BaseUrl,
    string? TextBody = null);

internal sealed record SimResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[]? Body)
{
    /// <summary>How the server sends it (stalled and trickled bodies are the server's job).</summary>
    public SimWire Wire { get; init; }

    public static SimResponse Json(int status, byte[] body) =>
        new(status, new Dictionary<string, string> { ["Content-Type"] = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8" }, body);
}

/// <summary>
/// Serves the slice of Graph v1.0 that AuditAgent uses, with Graph's paths, paging, throttling and
/// errors. Works on parsed requests so that $batch can dispatch its parts through the same code.
/// </summary>
internal sealed partial class GraphRouter(SimTenant tenant, SimulatorOptions options, SimulatorCounters counters)
{
    private const int MaxBatchRequests = 20;
    private readonly Random _faults = new(options.FaultSeed);
    private readonly Dictionary<string, int> _inFlight = new(StringComparer.OrdinalIgnoreCase);

    public async Task<SimResponse> HandleAsync(SimRequest request, CancellationToken ct)
    {
        var response = await DispatchAsync(request, ct);
        return response.Wire == SimWire.RepeatedLink ? WithRepeatedLink(request, response) : response;
    }

    /// <summary>The page with its @odata.nextLink pointing back at the request itself.</summary>
    private static SimResponse WithRepeatedLink(SimRequest request, SimResponse response)
    {
        if (response.Status != 200 || response.Body is null || JsonNode.Parse(response.Body) is not JsonObject page)
        {
            return response with { Wire = SimWire.Whole };
        }

        var query = string.Join('&', request.Query.Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value)}"));
        page.Remove("@odata.deltaLink");
        page["@odata.nextLink"] = request.BaseUrl + request.Path + (query.Length > 0 ? "?" + query : "");
        return response with { Body = System.Text.Encoding.UTF8.GetBytes(page.ToJsonString()), Wire = SimWire.Whole };
    }

    private Task<SimResponse> DispatchAsync(SimRequest request, CancellationToken ct)
    {
        var segments = Segments(request.Path);
        var get = request.Method.Equals("GET", StringComparison.OrdinalIgnoreCase);
        var post = request.Method.Equals("POST", StringComparison.OrdinalIgnoreCase);
        if (Denied(segments, post) is { } denied)
        {
            counters.CountOperation("denied", null);
            return Task.FromResult(denied);
        }

        return segments switch
        {
            ["$batch"] when post => BatchAsync(request, ct),
            ["domains"] when get => OperateAsync("domains", null, () => Domains(), false, ct),
            ["users"] when get => OperateAsync("users", null, () => Users(request), false, ct),
            ["users", var id] when get => UserOperation("user", id, mail: false, u => SingleUser(u, request), ct),
            ["users", var id, "manager"] when get => UserOperation("manager", id, mail: false, Manager, ct),
            ["users", var id, "mailboxSettings"] when get => UserOperation("mailboxSettings", id, mail: true, MailboxSettings, ct),
            ["users", var id, "sendMail"] when post => UserOperation("sendMail", id, mail: true, u => SendMail(u, request), ct),
            ["users", var id, "mailFolders", var folder, "messages", "delta" or "delta()"] when get && IsSentItems(folder) =>
                UserOperation("delta", id, mail: true, u => Delta(u, request), ct),
            ["users", var id, "mailFolders", var folder, "messages"] when get && IsSentItems(folder) =>
                UserOperation("messages", id, mail: true, u => List(u, request), ct),
            ["users", var id, "mailFolders", var folder, "messages"] when get && folder.Equals("inbox", StringComparison.OrdinalIgnoreCase) =>
                UserOperation("inbox", id, mail: true, u => Messages(u, request, u.InboxItems, "mailFolders('inbox')/messages"), ct),
            ["users", var id, "messages"] when get =>
                UserOperation("conversation", id, mail: true, u => Messages(u, request, [.. u.SentItemsRange(0, u.SentItemCount), .. u.InboxItems], "messages"), ct),
            _ => Task.FromResult(SimResponse.Json(400, GraphJson.Error("BadRequest", $"Resource not found for the segment '{segments.LastOrDefault()}'."))),
        };
    }

    /// <summary>Answers 403 as Graph does when the token lacks the application permission an endpoint needs.</summary>
    private SimResponse? Denied(string[] segments, bool post)
    {
        bool Has(params string[] roles) => roles.Any(r => options.Roles.Contains(r, StringComparer.OrdinalIgnoreCase));
        return segments switch
        {
            ["$batch"] => null,
            ["domains", ..] when !Has("Domain.Read.All", "Directory.Read.All", "Directory.ReadWrite.All") => DirectoryDenied(),
            ["users", _, "sendMail"] when post => Has("Mail.Send") ? null : MailDenied(),
            ["users", _, "mailboxSettings", ..] => Has("MailboxSettings.Read", "MailboxSettings.ReadWrite") ? null : MailDenied(),
            ["users", _, "mailFolders", ..] or ["users", _, "messages", ..] => Has("Mail.ReadBasic.All", "Mail.Read", "Mail.ReadWrite") ? null : MailDenied(),
            ["users", ..] when !Has("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All") => DirectoryDenied(),
            _ => null,
        };

        static SimResponse DirectoryDenied() => SimResponse.Json(403, GraphJson.Error("Authorization_RequestDenied", "Insufficient privileges to complete the operation."));

        static SimResponse MailDenied() => SimResponse.Json(403, GraphJson.Error("ErrorAccessDenied", "Access is denied. Check credentials and try again."));
    }

    /// <summary>Splits a path, accepting OData key syntax as Graph does: users('id') is users/id.</summary>
    private static string[] Segments(string path)
    {
        var result = new List<string>();
        foreach (var raw in path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = Uri.UnescapeDataString(raw);
            var open = segment.IndexOf("('", StringComparison.Ordinal);
            if (open > 0 && segment.EndsWith("')", StringComparison.Ordinal))
            {
                result.Add(segment[..open]);
                result.Add(segment[(open + 2)..^2]);
            }
            else
            {
                result.Add(segment);
            }
        }

        return [.. result];
    }

    private static bool IsSentItems(string folder) =>
        folder.Equals("sentitems", StringComparison.OrdinalIgnoreCase) || folder.Equals("('sentitems')", StringComparison.OrdinalIgnoreCase);

    private Task<SimResponse> UserOperation(string kind, string idOrUpn, bool mail, Func<SimUser, SimResponse> handle, CancellationToken ct)
    {
        var user = tenant.FindUser(idOrUpn);
        var mailboxId = user?.Id ?? idOrUpn;
        return OperateAsync(kind, mailboxId, () =>
        {
            if (user is null)
            {
                return mail
                    ? SimResponse.Json(404, GraphJson.Error("ErrorInvalidUser", $"The requested user '{idOrUpn}' is invalid."))
                    : SimResponse.Json(404, GraphJson.Error("Request_ResourceNotFound", $"Resource '{idOrUpn}' does not exist or one of its queried reference-property objects are not present."));
            }

            if (mail && user.OutsideAppScope)
            {
                return SimResponse.Json(403, GraphJson.Error("ErrorAccessDenied", "Access to OData is disabled."));
            }

            if (mail && (user.Mail is null || !user.HasMailbox))
            {
                return SimResponse.Json(404, GraphJson.Error("MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise."));
            }

            return handle(user);
        }, mail, ct);
    }

    private async Task<SimResponse> OperateAsync(string kind, string? mailboxId, Func<SimResponse> handle, bool mailboxLimited, CancellationToken ct)
    {
        var sequence = counters.CountOperation(kind, mailboxId);
        if (options.Interceptor?.Invoke(new SimOperation(kind, mailboxId, sequence)) is { } forced)
        {
            counters.CountFault();
            if (forced.Stall > TimeSpan.Zero)
            {
                await Task.Delay(forced.Stall, ct);
            }

            if (forced.Status != 0)
            {
                return Fault(forced.Status, forced.Code, forced.Message, forced.RetryAfter ?? forced.RetryAfterSeconds?.ToString(CultureInfo.InvariantCulture)) with { Wire = forced.Wire };
            }

            if (forced.Wire != SimWire.Whole)
            {
                await DelayAsync(ct);
                return handle() with { Wire = forced.Wire };
            }
        }

        if (options.FaultRate > 0)
        {
            double roll, pick;
            lock (_faults)
            {
                roll = _faults.NextDouble();
                pick = _faults.NextDouble();
            }

            if (roll < options.FaultRate)
            {
                counters.CountFault();
                return pick < 0.5
                    ? Fault(429, "TooManyRequests", "Too many requests.", RetryAfter)
                    : Fault(503, "ServiceUnavailable", "The service is temporarily unavailable.", RetryAfter);
            }
        }

        if (!mailboxLimited || mailboxId is null)
        {
            await DelayAsync(ct);
            return handle();
        }

        int inFlight;
        lock (_inFlight)
        {
            inFlight = _inFlight.GetValueOrDefault(mailboxId) + 1;
            _inFlight[mailboxId] = inFlight;
        }

        try
        {
            counters.ObserveConcurrency(inFlight);
            if (inFlight > options.MailboxConcurrencyLimit)
            {
                counters.CountThrottled();
                return Fault(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.", RetryAfter);
            }

            await DelayAsync(ct);
            return handle();
        }
        finally
        {
            lock (_inFlight)
            {
                _inFlight[mailboxId]--;
            }
        }
    }

    private Task DelayAsync(CancellationToken ct) =>
        options.Latency > TimeSpan.Zero ? Task.Delay(options.Latency, ct) : Task.CompletedTask;

    private string RetryAfter => options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);

    private static SimResponse Fault(int status, string code, string message, string? retryAfter)
    {
        var response = SimResponse.Json(status, GraphJson.Error(code, message));
        return retryAfter is null
            ? response
            : response with { Headers = new Dictionary<string, string>(response.Headers) { ["Retry-After"] = retryAfter } };
    }

    private SimResponse Domains() => SimResponse.Json(200, GraphJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("@odata.context", "https://graph.microsoft.com/v1.0/$metadata#domains");
        w.WriteStartArray("value");
        foreach (var domain in tenant.Domains)
        {
            GraphJson.WriteDomain(w, domain);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }));

    private SimResponse Users(SimRequest request)
    {
        var select = Select(request);
        var top = Math.Clamp(IntQuery(request, "$top") ?? 100, 1, options.MaxUsersPageSize);
        var skip = request.Query.TryGetValue("$skiptoken", out var token) && int.TryParse(token, CultureInfo.InvariantCulture, out var s) ? s : 0;
        var page = tenant.Users.Skip(skip).Take(top).ToList();
        return SimResponse.Json(200, GraphJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("@odata.context", "https://graph.microsoft.com/v1.0/$metadata#users");
            if (skip + page.Count < tenant.Users.Count)
            {
                var selectPart = request.Query.TryGetValue("$select", out var sel) ? "&$select=" + Uri.EscapeDataString(sel) : "";
                w.WriteString("@odata.nextLink", $"{request.BaseUrl}/users?$top={top}{selectPart}&$skiptoken={skip + page.Count}");
            }

            w.WriteStartArray("value");
            foreach (var user in page)
            {
                GraphJson.WriteUser(w, user, select);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }));
    }

    private static SimResponse SingleUser(SimUser user, SimRequest request) =>
        SimResponse.Json(200, GraphJson.Write(w => GraphJson.WriteUser(w, user, Select(request))));

    private SimResponse Manager(SimUser user)
    {
        var manager = user.ManagerId is null ? null : tenant.FindUser(user.ManagerId);
        return manager is null
            ? SimResponse.Json(404, GraphJson.Error("Request_ResourceNotFound", "Resource 'manager' does not exist or one of its queried reference-property objects are not present."))
            : SimResponse.Json(200, GraphJson.Write(w => GraphJson.WriteUser(w, manager, null, withType: true)));
    }

    /// <summary>The mailbox's settings (MailboxSettings.Read): its time zone, its purpose (user, shared, room, ...), its locale.</summary>
    private static SimResponse MailboxSettings(SimUser user) => SimResponse.Json(200, GraphJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("@odata.context", $"https://graph.microsoft.com/v1.0/$metadata#users('{user.Id}')/mailboxSettings");
        w.WriteString("timeZone", user.TimeZone ?? ""); // empty until the user first sets one (Outlook on the web asks at first sign-in)
        w.WriteString("userPurpose", user.UserPurpose);
        w.WriteStartObject("language");
        w.WriteString("locale", user.PreferredLanguage ?? "en-US");
        w.WriteEndObject();
        w.WriteEndObject();
    }));

    /// <summary>sendMail as JSON, or as base64 MIME (Content-Type text/plain), which is always saved to Sent Items.</summary>
    private SimResponse SendMail(SimUser user, SimRequest request)
    {
        var now = DateTimeOffset.UtcNow;
        if (tenant.BeforeMailAccepted?.Invoke() == false)
        {
            return SimResponse.Json(503, GraphJson.Error("ServiceUnavailable", "The service is temporarily unavailable."));
        }

        if (request.TextBody is { } text)
        {
            MimeKit.MimeMessage mime;
            try
            {
                using var stream = new MemoryStream(Convert.FromBase64String(text.Trim()));
                mime = MimeKit.MimeMessage.Load(stream);
            }
            catch (Exception ex) when (ex is FormatException or MimeKit.ParseException)
            {
                return SimResponse.Json(400, GraphJson.Error("ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content."));
            }

            tenant.RecordSentMail(new SimSentMail(user.Id, null, mime, now));
            user.AddSentItem(new SimMessage
            {
                Id = "sent-" + Guid.NewGuid().ToString("N"),
                InternetMessageId = "<" + (mime.MessageId ?? Guid.NewGuid().ToString("N")) + ">",
                Subject = mime.Subject,
                SentDateTime = now,
                ReceivedDateTime = now,
                From = new SimRecipient(user.Mail, user.DisplayName),
                Sender = new SimRecipient(user.Mail, user.DisplayName),
                To = mime.To.Mailboxes.Select(m => new SimRecipient(m.Address, m.Name)).ToList(),
            });
            tenant.OnMailAccepted?.Invoke();
            return new SimResponse(202, new Dictionary<string, string>(), null);
        }

        if (request.Body is not JsonObject body || body["message"] is not JsonObject message)
        {
            return SimResponse.Json(400, GraphJson.Error("ErrorInvalidRequest", "The request body must contain a message."));
        }

        tenant.RecordSentMail(new SimSentMail(user.Id, (JsonObject)body.DeepClone(), null, now));
        if (body["saveToSentItems"]?.GetValue<bool>() != false)
        {
            user.AddSentItem(new SimMessage
            {
                Id = "sent-" + Guid.NewGuid().ToString("N"),
                Subject = message["subject"]?.GetValue<string>(),
                SentDateTime = now,
                ReceivedDateTime = now,
                From = new SimRecipient(user.Mail, user.DisplayName),
                To = (message["toRecipients"] as JsonArray ?? []).Select(r => new SimRecipient(r?["emailAddress"]?["address"]?.GetValue<string>(), null)).ToList(),
            });
        }

        tenant.OnMailAccepted?.Invoke();
        return new SimResponse(202, new Dictionary<string, string>(), null);
    }

    private SimResponse Delta(SimUser user, SimRequest request)
    {
        DeltaToken state;
        if (request.Query.TryGetValue("$skiptoken", out var skip) || request.Query.TryGetValue("$deltatoken", out skip))
        {
            var decoded = DeltaToken.TryDecode(skip);
            if (decoded is null || !decoded.UserId.Equals(user.Id, StringComparison.OrdinalIgnoreCase))
            {
                return SimResponse.Json(400, GraphJson.Error("ErrorInvalidUrlQuery", "The sync state is not valid for this request."));
            }

            if (decoded.Epoch != user.DeltaEpoch)
            {
                return SimResponse.Json(410, GraphJson.Error("SyncStateNotFound", "The sync state generation is no longer valid. Please restart the sync from the beginning."));
            }

            state = request.Query.ContainsKey("$deltatoken")
                ? decoded with { Position = decoded.End, End = user.SentItemCount }
                : decoded;
        }
        else
        {
            long? since = null;
            if (request.Query.TryGetValue("$filter", out var filter))
            {
                var match = ReceivedFilter().Match(filter);
                if (!match.Success || !DateTimeOffset.TryParse(match.Groups["value"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
                {
                    return SimResponse.Json(400, GraphJson.Error("ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes."));
                }

                since = value.ToUnixTimeSeconds() + (match.Groups["op"].Value == "gt" ? 1 : 0);
            }

            state = new DeltaToken(user.Id, user.DeltaEpoch, 0, user.SentItemCount, since, request.Query.GetValueOrDefault("$select"));
            counters.CountRoundStart(user.Id);
        }

        var pageSize = PageSize(request);
        var select = state.Select is null ? null : SelectSet(state.Select);
        var page = new List<SimMessage>(pageSize);
        var position = state.Position;
        while (page.Count < pageSize && position < state.End)
        {
            var chunk = user.SentItemsRange(position, Math.Min(state.End, position + pageSize));
            foreach (var message in chunk)
            {
                position++;
                if (state.SinceUnixSeconds is not { } since || (message.ReceivedDateTime?.ToUnixTimeSeconds() ?? long.MaxValue) >= since)
                {
                    page.Add(message);
                    if (page.Count == pageSize)
                    {
                        break;
                    }
                }
            }
        }

        counters.CountMessages(page.Count);
        var link = $"{request.BaseUrl}/users/{Uri.EscapeDataString(user.Id)}/mailFolders('sentitems')/messages/delta";
        var response = SimResponse.Json(200, GraphJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("@odata.context", "https://graph.microsoft.com/v1.0/$metadata#Collection(message)");
            if (position < state.End)
            {
                w.WriteString("@odata.nextLink", $"{link}?$skiptoken={(state with { Position = position }).Encode()}");
            }
            else
            {
                w.WriteString("@odata.deltaLink", $"{link}?$deltatoken={(state with { Position = state.End }).Encode()}");
            }

            w.WriteStartArray("value");
            foreach (var message in page)
            {
                GraphJson.WriteMessage(w, message, select);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }));
        return WithPreferenceApplied(response, pageSize);
    }

    private SimResponse List(SimUser user, SimRequest request)
    {
        var top = Math.Clamp(IntQuery(request, "$top") ?? 10, 1, 1000);
        var skip = IntQuery(request, "$skip") ?? 0;
        var select = Select(request);
        if (request.Query.TryGetValue("$filter", out var filter))
        {
            return FilterByInternetMessageId(user, filter, select);
        }

        var total = user.SentItemCount;
        // Listing order is newest first, as Graph's default for mail folders.
        var from = Math.Max(0, total - skip - top);
        var to = Math.Max(0, total - skip);
        var page = user.SentItemsRange(from, to).Reverse().ToList();
        counters.CountMessages(page.Count);
        return SimResponse.Json(200, GraphJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("@odata.context", "https://graph.microsoft.com/v1.0/$metadata#users('" + user.Id + "')/mailFolders('sentitems')/messages");
            if (skip + top < total)
            {
                var selectPart = request.Query.TryGetValue("$select", out var sel) ? "&$select=" + Uri.EscapeDataString(sel) : "";
                w.WriteString("@odata.nextLink", $"{request.BaseUrl}/users/{Uri.EscapeDataString(user.Id)}/mailFolders/sentitems/messages?$top={top}{selectPart}&$skip={skip + top}");
            }

            w.WriteStartArray("value");
            foreach (var message in page)
            {
                GraphJson.WriteMessage(w, message, select);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }));
    }

    /// <summary>
    /// A list of messages across folders, as <c>/messages</c> and <c>/mailFolders/inbox/messages</c> serve them: with
    /// <c>$filter=conversationId eq '...'</c> (the one filter the agent uses there), <c>$select</c> and <c>$top</c>.
    /// </summary>
    private SimResponse Messages(SimUser user, SimRequest request, IReadOnlyList<SimMessage> messages, string path)
    {
        IEnumerable<SimMessage> found = messages;
        if (request.Query.TryGetValue("$filter", out var filter))
        {
            if (FilterValue(filter, "conversationId") is not { } wanted)
            {
                return InvalidFilter();
            }

            found = messages.Where(m => m.ConversationOf == wanted);
        }

        return MessagePage($"users('{user.Id}')/{path}", [.. found.Take(Math.Clamp(IntQuery(request, "$top") ?? 10, 1, 1000))], Select(request));
    }

    /// <summary><c>$filter=internetMessageId eq '&lt;id&gt;'</c>, the one filter on a folder's messages the agent uses (to find a sent apology).</summary>
    private SimResponse FilterByInternetMessageId(SimUser user, string filter, HashSet<string>? select) =>
        FilterValue(filter, "internetMessageId") is { } wanted
            ? MessagePage($"users('{user.Id}')/mailFolders('sentitems')/messages", [.. user.SentItemsRange(0, user.SentItemCount).Where(m => m.InternetMessageId == wanted)], select)
            : InvalidFilter();

    /// <summary>The value of <c>property eq 'value'</c> (quotes doubled inside, as OData writes them), or null for any other filter.</summary>
    private static string? FilterValue(string filter, string property)
    {
        var prefix = $"{property} eq '";
        return filter.StartsWith(prefix, StringComparison.Ordinal) && filter.EndsWith('\'') && filter.Length > prefix.Length
            ? filter[prefix.Length..^1].Replace("''", "'", StringComparison.Ordinal)
            : null;
    }

    private static SimResponse InvalidFilter() =>
        SimResponse.Json(400, GraphJson.Error("ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes."));

    private SimResponse MessagePage(string context, IReadOnlyList<SimMessage> page, HashSet<string>? select)
    {
        counters.CountMessages(page.Count);
        return SimResponse.Json(200, GraphJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("@odata.context", $"https://graph.microsoft.com/v1.0/$metadata#{context}");
            w.WriteStartArray("value");
            foreach (var message in page)
            {
                GraphJson.WriteMessage(w, message, select);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }));
    }

    private async Task<SimResponse> BatchAsync(SimRequest request, CancellationToken ct)
    {
        counters.CountOperation("batch", null);
        if (request.Body?["requests"] is not JsonArray parts)
        {
            return SimResponse.Json(400, GraphJson.Error("BadRequest", "Invalid batch payload: a 'requests' array is required."));
        }

        if (parts.Count > MaxBatchRequests)
        {
            return SimResponse.Json(400, GraphJson.Error("BadRequest", $"Number of batch request steps exceeds the maximum value of {MaxBatchRequests}."));
        }

        var results = new Dictionary<string, Task<SimResponse>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var part in parts.OfType<JsonObject>())
        {
            var id = part["id"]?.GetValue<string>() ?? (order.Count + 1).ToString(CultureInfo.InvariantCulture);
            var dependsOn = (part["dependsOn"] as JsonArray)?.Select(d => d!.GetValue<string>()).ToList() ?? [];
            var dependencies = dependsOn.Where(results.ContainsKey).Select(d => results[d]).ToList();
            order.Add(id);
            results[id] = RunPartAsync(part, dependencies, request.BaseUrl, ct);
        }

        await Task.WhenAll(results.Values);
        // A part that stalls or trickles holds up the whole batch answer.
        var wire = results.Values.Select(r => r.Result.Wire).FirstOrDefault(w => w is SimWire.StalledBody or SimWire.TrickledBody);
        return SimResponse.Json(200, GraphJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("responses");
            foreach (var id in order)
            {
                var response = results[id].Result;
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteNumber("status", response.Status);
                w.WriteStartObject("headers");
                foreach (var (name, value) in response.Headers)
                {
                    w.WriteString(name, value);
                }

                w.WriteEndObject();
                if (response.Body is { Length: > 0 } body)
                {
                    w.WritePropertyName("body");
                    w.WriteRawValue(body, skipInputValidation: true);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        })) with { Wire = wire };
    }

    private async Task<SimResponse> RunPartAsync(JsonObject part, List<Task<SimResponse>> dependencies, string baseUrl, CancellationToken ct)
    {
        foreach (var dependency in dependencies)
        {
            if ((await dependency).Status >= 400)
            {
                return SimResponse.Json(424, GraphJson.Error("FailedDependency", "A request this one depends on failed."));
            }
        }

        var url = part["url"]?.GetValue<string>() ?? "";
        var versionRoot = url.IndexOf("/v1.0/", StringComparison.OrdinalIgnoreCase);
        if (versionRoot >= 0)
        {
            url = url[(versionRoot + "/v1.0".Length)..];
        }

        var question = url.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? url : url[..question];
        var query = question < 0 ? new Dictionary<string, string>() : ParseQuery(url[(question + 1)..]);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (part["headers"] is JsonObject h)
        {
            foreach (var (name, value) in h)
            {
                headers[name] = value?.ToString() ?? "";
            }
        }

        var inner = new SimRequest(part["method"]?.GetValue<string>() ?? "GET", "/" + path.TrimStart('/'), query, headers, part["body"]?.DeepClone(), baseUrl);
        return await HandleAsync(inner, ct);
    }

    internal static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            result[name] = value;
        }

        return result;
    }

    private int PageSize(SimRequest request)
    {
        if (request.Headers.TryGetValue("Prefer", out var prefer))
        {
            foreach (var part in prefer.Split(',', StringSplitOptions.TrimEntries))
            {
                if (part.StartsWith("odata.maxpagesize=", StringComparison.OrdinalIgnoreCase)
                    && int.TryParse(part["odata.maxpagesize=".Length..], CultureInfo.InvariantCulture, out var size) && size > 0)
                {
                    return Math.Min(size, options.MaxPageSize);
                }
            }
        }

        return 10;
    }

    private static SimResponse WithPreferenceApplied(SimResponse response, int pageSize) =>
        response with { Headers = new Dictionary<string, string>(response.Headers) { ["Preference-Applied"] = $"odata.maxpagesize={pageSize}" } };

    private static int? IntQuery(SimRequest request, string name) =>
        request.Query.TryGetValue(name, out var value) && int.TryParse(value, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static HashSet<string>? Select(SimRequest request) =>
        request.Query.TryGetValue("$select", out var select) ? SelectSet(select) : null;

    private static HashSet<string> SelectSet(string select) =>
        new(select.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);

    [GeneratedRegex(@"^\s*receivedDateTime\s+(?<op>ge|gt)\s+(?<value>\S+)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex ReceivedFilter();
}
