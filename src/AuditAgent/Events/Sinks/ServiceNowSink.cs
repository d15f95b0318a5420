using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuditAgent.Core.Events;
using AuditAgent.Core.Incidents;
using AuditAgent.Graph;

namespace AuditAgent.Events.Sinks;

/// <summary>
/// One ServiceNow incident record per AuditAgent incident, through the Table API. The record carries
/// <c>correlation_id = auditagent-{id}</c>: every event first looks the record up by it, so a retry after a
/// crash finds the record it opened instead of opening a second. The first event of an incident opens the
/// record; later ones add a work note; resolution resolves it, a reopening puts it back in progress.
/// </summary>
public sealed class ServiceNowSink(ServiceNowSinkOptions options, HttpClient http, TimeProvider time) : IEventSink
{
    private string? _token;
    private DateTimeOffset _tokenExpiresAt;

    public SinkOptions Options => options;

    public int BatchSize => 1;

    /// <summary>Severity to ServiceNow's impact and urgency (with the default priority matrix: P1, P2, P3, P4).</summary>
    public static (int Impact, int Urgency) ImpactAndUrgency(Severity? severity) => severity switch
    {
        Severity.Critical => (1, 1),
        Severity.High => (1, 2),
        Severity.Medium => (2, 2),
        _ => (3, 2),
    };

    public static string CorrelationId(long incidentId) => string.Create(CultureInfo.InvariantCulture, $"auditagent-{incidentId}");

    public async Task<Delivery> SendAsync(IReadOnlyList<PublishedEvent> events, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(events);
        var e = events[0];
        if (e.IncidentId is not { } incidentId)
        {
            return Delivery.Taken; // a record follows an incident; scan.failed and agent.lost have none
        }

        try
        {
            var auth = await AuthorizationAsync(ct);
            if (auth.Error is { } authError)
            {
                return authError;
            }

            var (found, sysId) = await FindAsync(incidentId, auth.Header!, ct);
            if (!found.Ok)
            {
                return found;
            }

            if (sysId is null)
            {
                var created = await SendJsonAsync(HttpMethod.Post, "api/now/table/incident", NewRecord(e, incidentId), auth.Header!, ct);
                if (!created.Ok || e.Type == EventTypes.IncidentOpened)
                {
                    return created; // the record opened says everything the opening does
                }

                (found, sysId) = await FindAsync(incidentId, auth.Header!, ct);
                if (!found.Ok || sysId is null)
                {
                    return found.Ok ? new Delivery("the record just opened is not found by its correlation_id") : found;
                }
            }

            return await SendJsonAsync(HttpMethod.Patch, $"api/now/table/incident/{Uri.EscapeDataString(sysId)}", Update(e), auth.Header!, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or JsonException && !ct.IsCancellationRequested)
        {
            return Delivery.Failed(ex);
        }
    }

    private JsonObject NewRecord(PublishedEvent e, long incidentId)
    {
        var i = e.Incident();
        var (impact, urgency) = ImpactAndUrgency(e.Severity());
        var record = new JsonObject
        {
            ["short_description"] = string.Create(CultureInfo.InvariantCulture, $"AuditAgent #{incidentId}: mail exposed {e.Exposure()} ({i.Text("severity")})"),
            ["description"] = Describe(e),
            ["correlation_id"] = CorrelationId(incidentId),
            ["correlation_display"] = "AuditAgent",
            ["category"] = options.Category,
            ["impact"] = impact.ToString(CultureInfo.InvariantCulture),
            ["urgency"] = urgency.ToString(CultureInfo.InvariantCulture),
        };
        if (!string.IsNullOrWhiteSpace(options.AssignmentGroup))
        {
            record["assignment_group"] = options.AssignmentGroup;
        }

        return record;
    }

    private static JsonObject Update(PublishedEvent e)
    {
        var update = new JsonObject { ["work_notes"] = $"[AuditAgent event {e.Id.ToString(CultureInfo.InvariantCulture)}] {e.Title()}\n{Describe(e)}" };
        switch (e.Type)
        {
            case EventTypes.IncidentSeverityRaised:
            case EventTypes.IncidentReExposed:
            case EventTypes.IncidentReplyAll:
                var (impact, urgency) = ImpactAndUrgency(e.Severity());
                update["impact"] = impact.ToString(CultureInfo.InvariantCulture);
                update["urgency"] = urgency.ToString(CultureInfo.InvariantCulture);
                break;
            case EventTypes.IncidentAcknowledged:
            case EventTypes.IncidentReopened:
                update["state"] = "2"; // In Progress
                break;
            case EventTypes.IncidentResolved:
            case EventTypes.IncidentFalsePositive:
                update["state"] = "6"; // Resolved
                update["close_code"] = e.Type == EventTypes.IncidentResolved ? "Solution provided" : "No resolution provided";
                update["close_notes"] = e.Type == EventTypes.IncidentResolved
                    ? "Resolved in AuditAgent: the remediation plan was carried out."
                    : "Closed in AuditAgent as a false positive: not an exposure of personal data.";
                break;
        }

        return update;
    }

    /// <summary>The facts, in lines; never an exposed address.</summary>
    private static string Describe(PublishedEvent e)
    {
        var i = e.Incident();
        var lines = new List<string>
        {
            $"Severity: {i.Text("severity")}; status: {i.Text("status")}",
            $"Sender: {i.Text("sender")}",
            $"Exposed: {e.Exposure()}",
            $"Notify the supervisory authority by (GDPR Art. 33): {i.Text("notificationDueAt")}",
        };
        if (i is { } incident && incident.TryGetProperty("reasons", out var reasons) && reasons.ValueKind == JsonValueKind.Array && reasons.GetArrayLength() > 0)
        {
            lines.Add("Why: " + string.Join("; ", reasons.EnumerateArray().Select(r => r.GetString())));
        }

        if (i is { } withStep && withStep.TryGetProperty("nextStep", out var next) && next.ValueKind == JsonValueKind.Object)
        {
            lines.Add($"Next step: {next.GetProperty("title").GetString()} ({next.GetProperty("owner").GetString()}, due {next.GetProperty("dueAt").GetString()})");
        }

        if (i.Text("assignee") is { } assignee)
        {
            lines.Add($"Assignee in AuditAgent: {assignee}");
        }

        if (e.Subject is { } subject)
        {
            lines.Add($"Subject: {subject}");
        }

        if (e.Link is { } link)
        {
            lines.Add($"Open in AuditAgent: {link}");
        }

        return string.Join('\n', lines);
    }

    private async Task<(Delivery Result, string? SysId)> FindAsync(long incidentId, AuthenticationHeaderValue auth, CancellationToken ct)
    {
        var query = Uri.EscapeDataString($"correlation_id={CorrelationId(incidentId)}");
        using var request = new HttpRequestMessage(HttpMethod.Get, Url($"api/now/table/incident?sysparm_query={query}&sysparm_fields=sys_id&sysparm_limit=1"));
        request.Headers.Authorization = auth;
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            return (Delivery.Of(response), null);
        }

        var body = await response.Content.ReadFromJsonAsync<JsonObject>(ct);
        var sysId = body?["result"] is JsonArray { Count: > 0 } result ? result[0]?["sys_id"]?.GetValue<string>() : null;
        return (Delivery.Taken, sysId);
    }

    private async Task<Delivery> SendJsonAsync(HttpMethod method, string path, JsonObject body, AuthenticationHeaderValue auth, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, Url(path)) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = auth;
        request.Headers.Accept.ParseAdd("application/json");
        return await http.DeliverAsync(request, ct);
    }

    private Uri Url(string path) => new(new Uri(options.Instance.TrimEnd('/') + "/"), path);

    /// <summary>Basic auth from the password file, or an OAuth client-credentials token (kept until a minute before it expires).</summary>
    private async Task<(Delivery? Error, AuthenticationHeaderValue? Header)> AuthorizationAsync(CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(options.Username))
        {
            var password = CredentialFactory.ReadSecret(null, options.PasswordFile, "Events:Sinks:ServiceNow:PasswordFile");
            return (null, new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{password}"))));
        }

        if (_token is null || time.GetUtcNow() >= _tokenExpiresAt)
        {
            var secret = CredentialFactory.ReadSecret(null, options.ClientSecretFile, "Events:Sinks:ServiceNow:ClientSecretFile");
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = options.ClientId!, ["client_secret"] = secret,
            });
            using var response = await http.PostAsync(Url("oauth_token.do"), form, ct);
            if (!response.IsSuccessStatusCode)
            {
                var refused = Delivery.Of(response);
                return (refused with { Error = $"OAuth token: {refused.Error}" }, null);
            }

            var token = await response.Content.ReadFromJsonAsync<JsonObject>(ct);
            _token = token?["access_token"]?.GetValue<string>() ?? throw new JsonException("the token answer has no access_token");
            var lifetime = token["expires_in"]?.GetValue<int>() ?? 1800;
            _tokenExpiresAt = time.GetUtcNow().AddSeconds(Math.Max(0, lifetime - 60));
        }

        return (null, new AuthenticationHeaderValue("Bearer", _token));
    }
}
