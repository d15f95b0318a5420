using System.Text.Json;
using AuditAgent.Core.Detection;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Serialization.Json;

namespace AuditAgent.Graph;

/// <summary>One page of a mailbox's Sent Items delta.</summary>
/// <param name="NextLink">The @odata.nextLink, or the @odata.deltaLink on the round's last page.</param>
/// <param name="Malformed">Entries that could not be read as a message (counted, then skipped).</param>
/// <param name="Removed">@removed entries (deleted or changed messages): nothing to detect.</param>
public sealed record DeltaPage(IReadOnlyList<SentMessage> Messages, string NextLink, bool RoundComplete, int Malformed, int Removed);

/// <summary>
/// Reads Sent Items through the delta query with only the properties detection needs (these are all
/// within Mail.ReadBasic.All) and large pages. Each message is parsed on its own with the SDK's model,
/// so one malformed message is counted and skipped instead of failing its page.
/// </summary>
public sealed class SentItemsReader(GraphServiceClient client, int pageSize)
{
    internal static readonly string[] Properties =
    [
        "id", "internetMessageId", "conversationId", "subject", "sentDateTime", "receivedDateTime",
        "from", "sender", "toRecipients", "ccRecipients", "bccRecipients",
    ];

    private static readonly Dictionary<string, ParsableFactory<IParsable>> ErrorMapping = new()
    {
        ["XXX"] = ODataError.CreateFromDiscriminatorValue,
    };

    /// <param name="link">The stored nextLink/deltaLink, or null to start a new sync of the window.</param>
    public async Task<DeltaPage> ReadAsync(Mailbox mailbox, string? link, DateTimeOffset since, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(mailbox);
        var delta = client.Users[mailbox.Id].MailFolders["sentitems"].Messages.Delta;
        var prefer = $"odata.maxpagesize={pageSize}";
        var request = link is null
            ? delta.ToGetRequestInformation(rc =>
            {
                rc.QueryParameters.Select = Properties;
                rc.QueryParameters.Filter = $"receivedDateTime ge {since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}";
                rc.Headers.Add("Prefer", prefer);
            })
            : delta.WithUrl(link).ToGetRequestInformation(rc => rc.Headers.Add("Prefer", prefer));

        await using var stream = await client.RequestAdapter.SendPrimitiveAsync<Stream>(request, ErrorMapping, ct)
            ?? throw new InvalidDataException("Graph returned an empty delta page.");
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
        var root = document.RootElement;

        var messages = new List<SentMessage>();
        int malformed = 0, removed = 0;
        if (root.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array)
        {
            foreach (var element in value.EnumerateArray())
            {
                if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("@removed", out _))
                {
                    removed++;
                    continue;
                }

                if (TryRead(mailbox, element) is { } message)
                {
                    messages.Add(message);
                }
                else
                {
                    malformed++;
                }
            }
        }

        var next = String(root, "@odata.nextLink");
        var deltaLink = String(root, "@odata.deltaLink");
        if (next is null && deltaLink is null)
        {
            throw new InvalidDataException("Graph returned a delta page with neither @odata.nextLink nor @odata.deltaLink.");
        }

        return new DeltaPage(messages, next ?? deltaLink!, next is null, malformed, removed);
    }

    private static readonly string[] RecipientLists = ["toRecipients", "ccRecipients", "bccRecipients"];

    private static SentMessage? TryRead(Mailbox mailbox, JsonElement element)
    {
        // The SDK's model reads a recipient list of the wrong JSON type as empty; that would hide
        // recipients, so such a message counts as malformed instead.
        if (element.ValueKind != JsonValueKind.Object
            || RecipientLists.Any(p => element.TryGetProperty(p, out var list) && list.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null)))
        {
            return null;
        }

        Message? m;
        try
        {
            m = new JsonParseNode(element).GetObjectValue(Message.CreateFromDiscriminatorValue);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or JsonException or ArgumentException or OverflowException or KeyNotFoundException)
        {
            // The SDK's model throws these on wrong JSON types; the message is counted as malformed.
            return null;
        }

        if (string.IsNullOrWhiteSpace(m?.Id))
        {
            return null;
        }

        return new SentMessage(
            mailbox.Id,
            mailbox.Address,
            m.Id,
            m.InternetMessageId,
            m.ConversationId,
            m.Subject,
            m.SentDateTime ?? m.ReceivedDateTime,
            ToRecipient(m.From),
            ToRecipient(m.Sender),
            ToRecipients(m.ToRecipients),
            ToRecipients(m.CcRecipients),
            ToRecipients(m.BccRecipients));
    }

    private static Core.Detection.Recipient? ToRecipient(Microsoft.Graph.Models.Recipient? r) =>
        r?.EmailAddress is null ? null : new Core.Detection.Recipient(r.EmailAddress.Address, r.EmailAddress.Name);

    private static List<Core.Detection.Recipient> ToRecipients(List<Microsoft.Graph.Models.Recipient>? recipients) =>
        recipients?.Where(r => r is not null).Select(r => new Core.Detection.Recipient(r.EmailAddress?.Address, r.EmailAddress?.Name)).ToList() ?? [];

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
}
