using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuditAgent.Events.Sinks;

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
        var body = new JsonArray { new JsonObject { ["type"] = "TextBlock", ["size"] = "Medium", ["weight"] = "Bolder", ["wrap"] = true, ["text"] = e.Title() } };
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
            Fact("Exposed", e.Exposure());
            Fact("Subject", e.Subject);
            Fact("Assignee", i.TryGetProperty("assignee", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null);
            Fact("Notify the authority by", i.GetProperty("notificationDueAt").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
            if (i.TryGetProperty("nextStep", out var next) && next.ValueKind == JsonValueKind.Object)
            {
                Fact("Next step", string.Create(CultureInfo.InvariantCulture,
                    $"{next.GetProperty("title").GetString()} ({next.GetProperty("owner").GetString()}, due {next.GetProperty("dueAt").GetDateTimeOffset().UtcDateTime:yyyy-MM-dd HH:mm} UTC)"));
            }
        }

        Fact("Mailbox", e.Detail("mailbox"));
        Fact("Agent", e.Detail("agent"));
        Fact("Error", e.Detail("error"));

        body.Add(new JsonObject { ["type"] = "FactSet", ["facts"] = facts });
        if (e.Data.TryGetProperty("incident", out var incident) && incident.TryGetProperty("reasons", out var reasons) && reasons.GetArrayLength() > 0)
        {
            // Why it is as severe as it is, in words.
            body.Add(new JsonObject { ["type"] = "TextBlock", ["wrap"] = true, ["isSubtle"] = true, ["text"] = "Why: " + string.Join("; ", reasons.EnumerateArray().Select(r => r.GetString())) });
        }

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
}
