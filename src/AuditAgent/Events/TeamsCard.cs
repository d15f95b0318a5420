using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuditAgent.Events;

/// <summary>
/// An event as a Microsoft Teams message: an Adaptive Card 1.4 with what happened, the facts a channel
/// needs to decide who looks at it, and a button to the console page. Never an exposed address; the
/// subject only when Events:IncludeSubjects is on.
/// </summary>
public static class TeamsCard
{
    public static string For(PublishedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var body = new JsonArray { new JsonObject { ["type"] = "TextBlock", ["size"] = "Medium", ["weight"] = "Bolder", ["wrap"] = true, ["text"] = Title(e) } };
        var facts = new JsonArray();
        void Fact(string title, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                facts.Add(new JsonObject { ["title"] = title, ["value"] = value });
            }
        }

        if (e.Data.TryGetProperty("incident", out var i))
        {
            Fact("Severity", i.GetProperty("severity").GetString());
            Fact("Status", i.GetProperty("status").GetString());
            Fact("Sender", i.GetProperty("sender").GetString());
            Fact("Exposed", string.Create(CultureInfo.InvariantCulture, $"{i.GetProperty("exposed").GetInt32()} people in {i.GetProperty("domains").GetInt32()} organisations ({i.GetProperty("personal").GetInt32()} private mailboxes)"));
            Fact("Subject", e.Subject);
            Fact("Assignee", i.TryGetProperty("assignee", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null);
            Fact("Notify the authority by", i.GetProperty("notificationDueAt").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
        }

        if (e.Data.TryGetProperty("details", out var d) && d.TryGetProperty("error", out var error))
        {
            Fact("Error", error.GetString());
        }

        body.Add(new JsonObject { ["type"] = "FactSet", ["facts"] = facts });
        var card = new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = "1.4",
            ["body"] = body,
        };
        if (e.Link is { } link)
        {
            card["actions"] = new JsonArray { new JsonObject { ["type"] = "Action.OpenUrl", ["title"] = "Open in AuditAgent", ["url"] = link } };
        }

        var message = new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray { new JsonObject { ["contentType"] = "application/vnd.microsoft.card.adaptive", ["content"] = card } },
        };
        return message.ToJsonString();
    }

    private static string Title(PublishedEvent e)
    {
        var id = e.IncidentId?.ToString(CultureInfo.InvariantCulture);
        return e.Type switch
        {
            Core.Events.EventTypes.IncidentOpened => $"Privacy incident #{id} opened",
            Core.Events.EventTypes.IncidentReExposed => $"Incident #{id}: the same people were exposed again",
            Core.Events.EventTypes.IncidentSeverityRaised => $"Incident #{id}: severity raised",
            Core.Events.EventTypes.NotificationDeadlineNear => $"Incident #{id}: the 72-hour notification clock has at most {(e.Data.GetProperty("details").GetProperty("hoursLeftAtMost").GetInt32())} hours left",
            Core.Events.EventTypes.ScanFailed => "AuditAgent: a scan failed",
            Core.Events.EventTypes.StepOverdue => $"Incident #{id}: a plan step is overdue",
            _ => id is null ? e.Type : $"Incident #{id}: {e.Type}",
        };
    }
}
