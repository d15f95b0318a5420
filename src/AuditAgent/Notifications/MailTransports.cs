using System.Text;
using AuditAgent.Graph;
using AuditAgent.Storage;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using Microsoft.Kiota.Abstractions;
using MimeKit;

namespace AuditAgent.Notifications;

/// <summary>Sends one message; can say, where the channel allows, whether a message was already sent.</summary>
public interface IMailTransport
{
    string Name { get; }

    Task SendAsync(MimeMessage message, CancellationToken ct);

    /// <summary>True or false when the transport can tell whether a message with this reference went out; null when it cannot.</summary>
    Task<bool?> WasSentAsync(OutboxRow row, CancellationToken ct);
}

/// <summary>Builds the MIME message (plain text and HTML alternatives) for an outbox row.</summary>
public static class MailComposer
{
    public static MimeMessage Compose(OutboxRow row, string from)
    {
        ArgumentNullException.ThrowIfNull(row);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        foreach (var to in row.RecipientList)
        {
            message.To.Add(MailboxAddress.Parse(to));
        }

        message.Subject = $"{row.Subject} [{row.Reference}]";
        message.Headers.Add("X-AuditAgent-Reference", row.Reference);
        message.Body = new BodyBuilder { TextBody = row.Text, HtmlBody = row.Html }.ToMessageBody();
        return message;
    }
}

/// <summary>
/// Graph sendMail in MIME form (base64, text/plain), so a message keeps its plain-text and HTML parts and its
/// own Message-ID; and the sending mailbox's Sent Items, to find out after a crash whether a message went.
/// </summary>
public sealed class GraphMail(GraphServiceClient client)
{
    public async Task SendAsync(string mailbox, MimeMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var mime = new MemoryStream();
        await message.WriteToAsync(mime, ct);
        var base64 = Convert.ToBase64String(mime.GetBuffer(), 0, (int)mime.Length);
        var request = client.Users[mailbox].SendMail.ToPostRequestInformation(new Microsoft.Graph.Users.Item.SendMail.SendMailPostRequestBody());
        // The request builder prepared a JSON body; MIME goes as base64 text/plain instead.
        request.Headers.Remove("Content-Type");
        request.SetStreamContent(new MemoryStream(Encoding.ASCII.GetBytes(base64)), "text/plain");
        await client.RequestAdapter.SendNoContentAsync(request, GraphErrors.Mapping, ct);
    }

    /// <summary>The subjects of the mailbox's most recent Sent Items.</summary>
    public async Task<IReadOnlyList<string>> RecentSubjectsAsync(string mailbox, CancellationToken ct)
    {
        var page = await client.Users[mailbox].MailFolders["sentitems"].Messages.GetAsync(
            rc =>
            {
                rc.QueryParameters.Select = ["subject", "sentDateTime"];
                rc.QueryParameters.Top = 100;
            },
            ct);
        return (page?.Value ?? []).Select(m => m.Subject ?? "").ToList();
    }

    /// <summary>Whether the mailbox's Sent Items hold a message with this Internet Message-ID.</summary>
    public async Task<bool> InSentItemsAsync(string mailbox, string internetMessageId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(internetMessageId);
        var page = await client.Users[mailbox].MailFolders["sentitems"].Messages.GetAsync(
            rc =>
            {
                rc.QueryParameters.Filter = $"internetMessageId eq '{internetMessageId.Replace("'", "''", StringComparison.Ordinal)}'";
                rc.QueryParameters.Select = ["id"];
                rc.QueryParameters.Top = 1;
            },
            ct);
        return page?.Value is { Count: > 0 };
    }
}

/// <summary>The outbox over Graph sendMail from Notifications:SenderMailbox. Needs Mail.Send; scope it to the sender mailbox with RBAC for Applications.</summary>
public sealed class GraphMailTransport(GraphMail graph, IOptions<NotificationOptions> options) : IMailTransport
{
    public string Name => "Graph sendMail";

    public Task SendAsync(MimeMessage message, CancellationToken ct) => graph.SendAsync(options.Value.SenderMailbox!, message, ct);

    /// <summary>Looks for the reference in the subjects of the sender mailbox's most recent Sent Items.</summary>
    public async Task<bool?> WasSentAsync(OutboxRow row, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(row);
        return (await graph.RecentSubjectsAsync(options.Value.SenderMailbox!, ct)).Any(s => s.Contains($"[{row.Reference}]", StringComparison.Ordinal));
    }
}

/// <summary>An SMTP relay through MailKit. It cannot look back at what it sent.</summary>
public sealed class SmtpMailTransport(IOptions<NotificationOptions> options) : IMailTransport
{
    public string Name => "SMTP";

    public async Task SendAsync(MimeMessage message, CancellationToken ct)
    {
        var smtp = options.Value.Smtp;
        using var client = new SmtpClient();
        var security = smtp.Security switch
        {
            "StartTls" => SecureSocketOptions.StartTls,
            "SslOnConnect" => SecureSocketOptions.SslOnConnect,
            "None" => SecureSocketOptions.None,
            _ => SecureSocketOptions.Auto,
        };
        await client.ConnectAsync(smtp.Host ?? throw new InvalidOperationException("Notifications:Smtp:Host is not set."), smtp.Port, security, ct);
        if (!string.IsNullOrEmpty(smtp.Username))
        {
            await client.AuthenticateAsync(smtp.Username, smtp.Password ?? "", ct);
        }

        await client.SendAsync(message, ct);
        await client.DisconnectAsync(true, ct);
    }

    public Task<bool?> WasSentAsync(OutboxRow row, CancellationToken ct) => Task.FromResult<bool?>(null);
}

/// <summary>No transport: messages are only written to the output folder.</summary>
public sealed class NoMailTransport : IMailTransport
{
    public string Name => "none (folder only)";

    public Task SendAsync(MimeMessage message, CancellationToken ct) => Task.CompletedTask;

    public Task<bool?> WasSentAsync(OutboxRow row, CancellationToken ct) => Task.FromResult<bool?>(false);
}
