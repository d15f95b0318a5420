using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AuditAgent.Simulator;

/// <summary>
/// The receivers of AuditAgent's event sinks, on the simulator's origin, as the real services answer:
/// ServiceNow's Table API (basic auth or an OAuth client-credentials token; create, query by
/// correlation_id, update), Azure Monitor's Logs Ingestion API (a bearer token for monitor.azure.com,
/// the DCR and stream, rows checked against the table's columns) and a Teams Workflows webhook (an
/// Adaptive Card message). What they received is kept for tests to read.
/// </summary>
public sealed class SinkReceivers(string tenantId)
{
    public const string ServiceNowUser = "auditagent.integration";
    public const string ServiceNowPassword = "sim-servicenow-password";
    public const string ServiceNowClientId = "auditagent-oauth-client";
    public const string ServiceNowClientSecret = "sim-servicenow-client-secret";
    public const string LogsRuleId = "dcr-5f0e3d2c1b0a49788796a5b4c3d2e1f0";
    public const string LogsStream = "Custom-AuditAgentEvents_CL";

    /// <summary>The custom table's columns: what the DCR's stream declaration accepts.</summary>
    public static readonly IReadOnlyDictionary<string, JsonValueKind[]> LogsColumns = new Dictionary<string, JsonValueKind[]>
    {
        ["TimeGenerated"] = [JsonValueKind.String], ["EventId"] = [JsonValueKind.Number], ["EventType"] = [JsonValueKind.String],
        ["IncidentId"] = [JsonValueKind.Number, JsonValueKind.Null], ["Severity"] = [JsonValueKind.String, JsonValueKind.Null],
        ["Status"] = [JsonValueKind.String, JsonValueKind.Null], ["Sender"] = [JsonValueKind.String, JsonValueKind.Null],
        ["Assignee"] = [JsonValueKind.String, JsonValueKind.Null], ["Exposed"] = [JsonValueKind.Number, JsonValueKind.Null],
        ["Personal"] = [JsonValueKind.Number, JsonValueKind.Null], ["Domains"] = [JsonValueKind.Number, JsonValueKind.Null],
        ["Messages"] = [JsonValueKind.Number, JsonValueKind.Null], ["NotificationDueAt"] = [JsonValueKind.String, JsonValueKind.Null],
        ["Title"] = [JsonValueKind.String], ["Link"] = [JsonValueKind.String, JsonValueKind.Null], ["Subject"] = [JsonValueKind.String, JsonValueKind.Null],
        ["Details"] = [JsonValueKind.Object, JsonValueKind.Null], ["SchemaVersion"] = [JsonValueKind.Number, JsonValueKind.Null],
    };

    private readonly ConcurrentDictionary<string, string> _oauthTokens = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private int _nextRecord;

    /// <summary>The bearer token a Logs Ingestion call must carry (audience https://monitor.azure.com).</summary>
    public string MonitorToken { get; } = GraphJson.Token(tenantId, [], "https://monitor.azure.com");

    /// <summary>ServiceNow incident records by sys_id: their fields, and every work note added.</summary>
    public ConcurrentDictionary<string, ServiceNowRecord> ServiceNow { get; } = new(StringComparer.Ordinal);

    /// <summary>Every ServiceNow Table API request: method and path (with the query).</summary>
    public ConcurrentQueue<string> ServiceNowRequests { get; } = new();

    /// <summary>Rows the Logs Ingestion API took, in order.</summary>
    public ConcurrentQueue<JsonObject> LogRows { get; } = new();

    /// <summary>Teams messages (Adaptive Cards) taken, by workflow name.</summary>
    public ConcurrentQueue<(string Workflow, JsonObject Message)> TeamsMessages { get; } = new();

    /// <summary>Called as each sink request has been taken, before it is answered (the crash suite kills the agent there).</summary>
    public Action? OnRequest { get; set; }

    /// <summary>Statuses to answer the next sink requests with instead of serving them (429 comes with Retry-After: 1).</summary>
    public ConcurrentQueue<int> Faults { get; } = new();

    public async Task<bool> TryHandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var kind = path switch
        {
            "/oauth_token.do" => "oauth",
            _ when path.StartsWith("/api/now/table/incident", StringComparison.Ordinal) => "servicenow",
            _ when path.StartsWith("/dataCollectionRules/", StringComparison.Ordinal) => "logs",
            _ when path.StartsWith("/workflows/", StringComparison.Ordinal) => "teams",
            _ => null,
        };
        if (kind is null)
        {
            return false;
        }

        if (kind != "oauth" && Faults.TryDequeue(out var fault))
        {
            if (fault == 429)
            {
                context.Response.Headers.RetryAfter = "1";
            }

            await WriteAsync(context, fault, new JsonObject { ["error"] = new JsonObject { ["message"] = "Injected fault" } });
            return true;
        }

        switch (kind)
        {
            case "oauth":
                await OAuthAsync(context);
                break;
            case "servicenow":
                await ServiceNowAsync(context, path);
                break;
            case "logs":
                await LogsAsync(context, path);
                break;
            default:
                await TeamsAsync(context, path);
                break;
        }

        if (kind != "oauth")
        {
            OnRequest?.Invoke(); // taken; the answer may still be on its way when the caller dies
        }

        return true;
    }

    private async Task OAuthAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        if (form["grant_type"] != "client_credentials" || form["client_id"] != ServiceNowClientId || form["client_secret"] != ServiceNowClientSecret)
        {
            await WriteAsync(context, 401, new JsonObject { ["error"] = "access_denied", ["error_description"] = "access_denied" });
            return;
        }

        var token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        _oauthTokens[token] = ServiceNowClientId;
        await WriteAsync(context, 200, new JsonObject { ["access_token"] = token, ["token_type"] = "Bearer", ["expires_in"] = 1799, ["scope"] = "useraccount" });
    }

    private async Task ServiceNowAsync(HttpContext context, string path)
    {
        var method = context.Request.Method;
        ServiceNowRequests.Enqueue($"{method} {path}{context.Request.QueryString}");
        var auth = context.Request.Headers.Authorization.ToString();
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ServiceNowUser}:{ServiceNowPassword}"));
        if (auth != basic && !(auth.StartsWith("Bearer ", StringComparison.Ordinal) && _oauthTokens.ContainsKey(auth[7..])))
        {
            await WriteAsync(context, 401, new JsonObject { ["error"] = new JsonObject { ["message"] = "User Not Authenticated", ["detail"] = "Required to provide Auth information" }, ["status"] = "failure" });
            return;
        }

        var sysId = path.Length > "/api/now/table/incident/".Length ? path["/api/now/table/incident/".Length..] : null;
        if (HttpMethods.IsGet(method) && sysId is null)
        {
            var query = context.Request.Query["sysparm_query"].ToString();
            var matches = ServiceNow.Values
                .Where(r => query.Length == 0 || query.Split('^').All(term => term.Split('=', 2) is [var field, var value] && r.Field(field) == value))
                .OrderBy(r => r.Number, StringComparer.Ordinal)
                .Select(r => (JsonNode)r.ToJson());
            await WriteAsync(context, 200, new JsonObject { ["result"] = new JsonArray(matches.ToArray()) });
            return;
        }

        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body is null)
        {
            await WriteAsync(context, 400, new JsonObject { ["error"] = new JsonObject { ["message"] = "Exception while reading request", ["detail"] = "The payload is not valid JSON." }, ["status"] = "failure" });
            return;
        }

        if (HttpMethods.IsPost(method) && sysId is null)
        {
            ServiceNowRecord record;
            lock (_gate)
            {
                _nextRecord++;
                record = new ServiceNowRecord(Guid.NewGuid().ToString("N"), string.Create(CultureInfo.InvariantCulture, $"INC{_nextRecord:D7}"));
            }

            record.Apply(body);
            record.Fields["state"] = record.Fields.GetValueOrDefault("state") ?? "1";
            ServiceNow[record.SysId] = record;
            await WriteAsync(context, 201, new JsonObject { ["result"] = record.ToJson() });
            return;
        }

        if ((HttpMethods.IsPatch(method) || HttpMethods.IsPut(method)) && sysId is not null && ServiceNow.TryGetValue(sysId, out var existing))
        {
            existing.Apply(body);
            await WriteAsync(context, 200, new JsonObject { ["result"] = existing.ToJson() });
            return;
        }

        await WriteAsync(context, 404, new JsonObject { ["error"] = new JsonObject { ["message"] = "No Record found", ["detail"] = "Record doesn't exist or ACL restricts the record retrieval" }, ["status"] = "failure" });
    }

    private async Task LogsAsync(HttpContext context, string path)
    {
        var expected = $"/dataCollectionRules/{LogsRuleId}/streams/{LogsStream}";
        if (context.Request.Headers.Authorization.ToString() != "Bearer " + MonitorToken)
        {
            await WriteAsync(context, 401, LogsError("InvalidToken", "The bearer token is missing, invalid or not for the audience https://monitor.azure.com."));
        }
        else if (!HttpMethods.IsPost(context.Request.Method) || path != expected || context.Request.Query["api-version"] != "2023-01-01")
        {
            await WriteAsync(context, 404, LogsError("NotFound", "No data collection rule, stream or api-version by that name."));
        }
        else if (await JsonNode.ParseAsync(context.Request.Body) is not JsonArray rows)
        {
            await WriteAsync(context, 400, LogsError("InvalidPayload", "The body must be a JSON array of rows."));
        }
        else if (rows.OfType<JsonObject>().SelectMany(RowErrors).FirstOrDefault() is { } error)
        {
            await WriteAsync(context, 400, LogsError("InvalidPayload", error));
        }
        else
        {
            foreach (var row in rows.OfType<JsonObject>())
            {
                LogRows.Enqueue((JsonObject)row.DeepClone());
            }

            context.Response.StatusCode = 204;
        }
    }

    private static IEnumerable<string> RowErrors(JsonObject row)
    {
        if (row["TimeGenerated"] is null)
        {
            yield return "Each row needs TimeGenerated.";
        }

        foreach (var (name, value) in row)
        {
            var kind = value?.GetValueKind() ?? JsonValueKind.Null;
            if (!LogsColumns.TryGetValue(name, out var kinds))
            {
                yield return $"The stream has no column '{name}'.";
            }
            else if (!kinds.Contains(kind))
            {
                yield return $"Column '{name}' cannot take a {kind}.";
            }
        }
    }

    private async Task TeamsAsync(HttpContext context, string path)
    {
        var message = await JsonNode.ParseAsync(context.Request.Body) as JsonObject;
        var card = message?["attachments"] is JsonArray { Count: > 0 } attachments ? attachments[0] : null;
        var content = card?["content"];
        var problem = message?["type"]?.GetValue<string>() != "message" ? "type must be 'message'"
            : card?["contentType"]?.GetValue<string>() != "application/vnd.microsoft.card.adaptive" ? "the attachment must be an Adaptive Card"
            : content?["type"]?.GetValue<string>() != "AdaptiveCard" ? "content.type must be 'AdaptiveCard'"
            : content["version"]?.GetValue<string>() is not ("1.0" or "1.1" or "1.2" or "1.3" or "1.4" or "1.5") ? "Teams renders Adaptive Cards up to version 1.5"
            : content["body"] is not JsonArray { Count: > 0 } body || body.Any(e => e?["type"] is null) ? "body needs elements, each with a type"
            : null;
        if (problem is not null)
        {
            await WriteAsync(context, 400, new JsonObject { ["error"] = new JsonObject { ["code"] = "InvalidRequestContent", ["message"] = problem } });
            return;
        }

        TeamsMessages.Enqueue((path["/workflows/".Length..].Split('/')[0], message!));
        context.Response.StatusCode = 202;
    }

    private static JsonObject LogsError(string code, string message) => new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };

    private static async Task WriteAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }
}

/// <summary>A ServiceNow incident record: its fields (work_notes are kept apart, as journal entries).</summary>
public sealed class ServiceNowRecord(string sysId, string number)
{
    private readonly object _gate = new();

    public string SysId { get; } = sysId;

    public string Number { get; } = number;

    public ConcurrentDictionary<string, string?> Fields { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> WorkNotes { get; } = new();

    public string? Field(string name) => name switch
    {
        "sys_id" => SysId,
        "number" => Number,
        _ => Fields.GetValueOrDefault(name),
    };

    public void Apply(JsonObject body)
    {
        lock (_gate)
        {
            foreach (var (name, value) in body)
            {
                var text = value?.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString();
                if (name == "work_notes")
                {
                    WorkNotes.Enqueue(text ?? "");
                }
                else
                {
                    Fields[name] = text;
                }
            }
        }
    }

    public JsonObject ToJson()
    {
        var json = new JsonObject { ["sys_id"] = SysId, ["number"] = Number };
        foreach (var (name, value) in Fields)
        {
            json[name] = value;
        }

        return json;
    }
}
