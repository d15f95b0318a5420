using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;

namespace AuditAgent.Events.Sinks;

/// <summary>
/// Microsoft Sentinel / Log Analytics through the Logs Ingestion API: up to 100 events per call as rows of
/// the custom table AuditAgentEvents_CL (deploy/azure/sentinel.bicep declares the same columns), with a
/// token for monitor.azure.com from the agent's own Azure.Identity credential. No ingestion SDK is served
/// here, and the API is one POST.
/// </summary>
public sealed class SentinelSink(SentinelSinkOptions options, HttpClient http, TokenCredential? credential) : IEventSink
{
    /// <summary>The scope of a Logs Ingestion token; the double slash is as documented.</summary>
    public const string Scope = "https://monitor.azure.com//.default";

    public const string ApiVersion = "2023-01-01";

    /// <summary>The table's columns, as the DCR declares them: name and Log Analytics type.</summary>
    public static readonly IReadOnlyList<(string Name, string Type)> Columns =
    [
        ("TimeGenerated", "datetime"), ("EventId", "long"), ("EventType", "string"), ("IncidentId", "long"), ("Severity", "string"),
        ("Status", "string"), ("Sender", "string"), ("Assignee", "string"), ("Exposed", "int"), ("Personal", "int"), ("Domains", "int"),
        ("Messages", "int"), ("NotificationDueAt", "datetime"), ("Title", "string"), ("Link", "string"), ("Subject", "string"),
        ("Details", "dynamic"), ("SchemaVersion", "int"),
    ];

    public SinkOptions Options => options;

    public int BatchSize => 100;

    public async Task<Delivery> SendAsync(IReadOnlyList<PublishedEvent> events, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(events);
        var url = $"{options.Endpoint.TrimEnd('/')}/dataCollectionRules/{Uri.EscapeDataString(options.RuleId)}/streams/{Uri.EscapeDataString(options.Stream)}?api-version={ApiVersion}";
        string token;
        try
        {
            token = options.AccessToken is { Length: > 0 } fixedToken
                ? fixedToken
                : (await credential!.GetTokenAsync(new TokenRequestContext([Scope]), ct)).Token;
        }
        catch (Azure.Identity.AuthenticationFailedException ex)
        {
            return new Delivery($"no token for monitor.azure.com: {ex.Message.Split('\n')[0]}");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(new JsonArray(events.Select(Row).ToArray()).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.DeliverAsync(request, ct);
    }

    /// <summary>An event as a row of AuditAgentEvents_CL.</summary>
    public static JsonNode Row(PublishedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var i = e.Incident();
        var row = new JsonObject
        {
            ["TimeGenerated"] = e.OccurredAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            ["EventId"] = e.Id,
            ["EventType"] = e.Type,
            ["IncidentId"] = e.IncidentId,
            ["Severity"] = i.Text("severity"),
            ["Status"] = i.Text("status"),
            ["Sender"] = i.Text("sender"),
            ["Assignee"] = i.Text("assignee"),
            ["Exposed"] = i is null ? null : i.Number("exposed"),
            ["Personal"] = i is null ? null : i.Number("personal"),
            ["Domains"] = i is null ? null : i.Number("domains"),
            ["Messages"] = i is null ? null : i.Number("messages"),
            ["NotificationDueAt"] = i.Text("notificationDueAt"),
            ["Title"] = e.Title(),
            ["Link"] = e.Link,
            ["Subject"] = e.Subject,
            ["Details"] = e.Data.TryGetProperty("details", out var d) ? JsonNode.Parse(d.GetRawText()) : null,
            ["SchemaVersion"] = e.Data.TryGetProperty("schemaVersion", out var v) ? v.GetInt32() : null,
        };
        return row;
    }
}
