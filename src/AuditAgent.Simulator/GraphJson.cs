using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AuditAgent.Simulator;

/// <summary>Writes tenant objects as Graph v1.0 JSON, honouring $select.</summary>
internal static class GraphJson
{
    private static readonly string[] UserDefaultProperties =
        ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"];

    // Sizeable on purpose: a message read without $select carries its body, as Graph's does.
    private static readonly string BodyFiller = string.Concat(Enumerable.Repeat(
        "<p>Thank you for your message. Please find below the details we discussed, the agenda for the next meeting and the documents you asked for.</p>", 10));

    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            write(writer);
        }

        return stream.ToArray();
    }

    public static byte[] Error(string code, string message) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("code", code);
        w.WriteString("message", message);
        w.WriteStartObject("innerError");
        w.WriteString("date", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
        w.WriteString("request-id", Guid.NewGuid().ToString());
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    });

    public static void WriteDomain(Utf8JsonWriter w, SimDomain d)
    {
        w.WriteStartObject();
        w.WriteString("authenticationType", "Managed");
        w.WriteBoolean("isAdminManaged", true);
        w.WriteBoolean("isDefault", d.IsDefault);
        w.WriteBoolean("isInitial", d.IsInitial);
        w.WriteBoolean("isRoot", true);
        w.WriteBoolean("isVerified", d.IsVerified);
        w.WriteStartArray("supportedServices");
        foreach (var s in d.SupportedServices)
        {
            w.WriteStringValue(s);
        }

        w.WriteEndArray();
        w.WriteString("id", d.Id);
        w.WriteEndObject();
    }

    public static void WriteUser(Utf8JsonWriter w, SimUser u, IReadOnlySet<string>? select, bool withType = false)
    {
        bool Want(string name) => select is null ? UserDefaultProperties.Contains(name) : select.Contains(name) || name == "id";
        w.WriteStartObject();
        if (withType)
        {
            w.WriteString("@odata.type", "#microsoft.graph.user");
        }

        if (Want("id"))
        {
            w.WriteString("id", u.Id);
        }

        if (Want("businessPhones"))
        {
            w.WriteStartArray("businessPhones");
            w.WriteEndArray();
        }

        if (Want("displayName"))
        {
            w.WriteString("displayName", u.DisplayName);
        }

        if (Want("givenName"))
        {
            w.WriteString("givenName", u.DisplayName?.Split(' ')[0]);
        }

        if (Want("surname"))
        {
            w.WriteString("surname", u.DisplayName?.Split(' ')[^1]);
        }

        if (Want("jobTitle"))
        {
            w.WriteString("jobTitle", u.JobTitle);
        }

        if (Want("mail"))
        {
            w.WriteString("mail", u.Mail);
        }

        if (Want("mobilePhone"))
        {
            w.WriteNull("mobilePhone");
        }

        if (Want("officeLocation"))
        {
            w.WriteNull("officeLocation");
        }

        if (Want("preferredLanguage"))
        {
            w.WriteString("preferredLanguage", u.PreferredLanguage);
        }

        if (Want("userPrincipalName"))
        {
            w.WriteString("userPrincipalName", u.UserPrincipalName);
        }

        if (Want("accountEnabled"))
        {
            w.WriteBoolean("accountEnabled", u.AccountEnabled);
        }

        if (Want("department"))
        {
            w.WriteString("department", u.Department);
        }

        w.WriteEndObject();
    }

    public static void WriteMessage(Utf8JsonWriter w, SimMessage m, IReadOnlySet<string>? select)
    {
        bool Want(string name) => select is null || select.Contains(name);
        w.WriteStartObject();
        if (m.Raw is not null)
        {
            foreach (var (name, value) in m.Raw)
            {
                if (name.StartsWith('@') || name == "id" || Want(name))
                {
                    w.WritePropertyName(name);
                    if (value is null)
                    {
                        w.WriteNullValue();
                    }
                    else
                    {
                        value.WriteTo(w);
                    }
                }
            }

            w.WriteEndObject();
            return;
        }

        w.WriteString("@odata.type", "#microsoft.graph.message");
        w.WriteString("@odata.etag", "W/\"CQAAABYAAAA" + m.Id?.Length.ToString(CultureInfo.InvariantCulture) + "\"");
        if (select is null)
        {
            WriteDate(w, "createdDateTime", m.SentDateTime);
            WriteDate(w, "lastModifiedDateTime", m.SentDateTime);
            w.WriteString("changeKey", "CQAAABYAAAA");
            w.WriteStartArray("categories");
            w.WriteEndArray();
        }

        if (Want("receivedDateTime"))
        {
            WriteDate(w, "receivedDateTime", m.ReceivedDateTime);
        }

        if (Want("sentDateTime"))
        {
            WriteDate(w, "sentDateTime", m.SentDateTime);
        }

        if (Want("hasAttachments"))
        {
            w.WriteBoolean("hasAttachments", m.HasAttachments);
        }

        if (Want("internetMessageId"))
        {
            w.WriteString("internetMessageId", m.InternetMessageId);
        }

        if (Want("subject"))
        {
            w.WriteString("subject", m.Subject);
        }

        if (select is null)
        {
            w.WriteString("bodyPreview", "Thank you for your message. Please find below the details we discussed");
            w.WriteString("importance", "normal");
            w.WriteString("parentFolderId", "AAMkADsentitems");
            w.WriteBoolean("isDeliveryReceiptRequested", false);
            w.WriteBoolean("isReadReceiptRequested", false);
            w.WriteBoolean("isRead", true);
            w.WriteBoolean("isDraft", false);
            w.WriteString("webLink", "https://outlook.office365.com/owa/?ItemID=" + Uri.EscapeDataString(m.Id ?? "") + "&exvsurl=1&viewmodel=ReadMessageItem");
            w.WriteString("inferenceClassification", "focused");
            w.WriteStartObject("body");
            w.WriteString("contentType", "html");
            w.WriteString("content", "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>" + BodyFiller + "</body></html>");
            w.WriteEndObject();
        }

        if (Want("conversationId"))
        {
            w.WriteString("conversationId", m.ConversationId);
        }

        if (Want("sender"))
        {
            WriteRecipient(w, "sender", m.Sender);
        }

        if (Want("from"))
        {
            WriteRecipient(w, "from", m.From);
        }

        if (Want("toRecipients"))
        {
            WriteRecipients(w, "toRecipients", m.To);
        }

        if (Want("ccRecipients"))
        {
            WriteRecipients(w, "ccRecipients", m.Cc);
        }

        if (Want("bccRecipients"))
        {
            WriteRecipients(w, "bccRecipients", m.Bcc);
        }

        if (select is null)
        {
            w.WriteStartArray("replyTo");
            w.WriteEndArray();
            w.WriteStartObject("flag");
            w.WriteString("flagStatus", "notFlagged");
            w.WriteEndObject();
        }

        w.WriteString("id", m.Id);
        w.WriteEndObject();
    }

    private static void WriteDate(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, v.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteRecipients(Utf8JsonWriter w, string name, IReadOnlyList<SimRecipient> recipients)
    {
        w.WriteStartArray(name);
        foreach (var r in recipients)
        {
            WriteRecipientValue(w, r);
        }

        w.WriteEndArray();
    }

    private static void WriteRecipient(Utf8JsonWriter w, string name, SimRecipient? r)
    {
        w.WritePropertyName(name);
        if (r is null)
        {
            w.WriteNullValue();
        }
        else
        {
            WriteRecipientValue(w, r);
        }
    }

    private static void WriteRecipientValue(Utf8JsonWriter w, SimRecipient r)
    {
        w.WriteStartObject();
        w.WriteStartObject("emailAddress");
        w.WriteString("name", r.Name);
        if (r.Address is not null)
        {
            w.WriteString("address", r.Address);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>A JWT-shaped, unsigned token: the simulator only checks equality, the agent reads its roles.</summary>
    public static string Token(string tenantId, IReadOnlyList<string> roles, string audience = "https://graph.microsoft.com")
    {
        static string Part(byte[] json) => System.Buffers.Text.Base64Url.EncodeToString(json);
        var header = Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("typ", "JWT");
            w.WriteString("alg", "none");
            w.WriteEndObject();
        });
        var payload = Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("aud", audience);
            w.WriteString("iss", $"https://sts.windows.net/{tenantId}/");
            w.WriteString("tid", tenantId);
            w.WriteString("app_displayname", "AuditAgent (simulator)");
            w.WriteString("appid", "11111111-2222-3333-4444-555555555555");
            if (roles.Count > 0)
            {
                w.WriteStartArray("roles");
                foreach (var role in roles)
                {
                    w.WriteStringValue(role);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        });
        return $"{Part(header)}.{Part(payload)}.{Part(Encoding.UTF8.GetBytes("simulator"))}";
    }
}
