using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditAgent.Notifications;

public sealed record DeliverySummary(int Sent, int Failed, int Recovered, int Unknown);

/// <summary>
/// Delivers due outbox rows: claim, send, record. A row found in "sending" was interrupted mid-send:
/// when the transport can check (Graph: the sender's Sent Items), it is marked sent or sent again;
/// when it cannot (SMTP), it is marked "unknown" and left for a person rather than risk a duplicate.
/// </summary>
public sealed class OutboxService(OutboxStore store, IMailTransport transport, IOptions<NotificationOptions> options, TimeProvider time, Telemetry.AgentMetrics metrics, ILogger<OutboxService> logger)
{
    public async Task<DeliverySummary> DeliverAsync(CancellationToken ct)
    {
        int sent = 0, failed = 0, recovered = 0, unknown = 0;
        foreach (var row in await store.InStatusAsync("sending", ct))
        {
            var wasSent = await transport.WasSentAsync(row, ct);
            if (wasSent == true)
            {
                await store.SetStatusAsync(row.Id, "sent", null, time.GetUtcNow(), ct);
                recovered++;
            }
            else if (wasSent == false)
            {
                await store.SetStatusAsync(row.Id, "pending", "interrupted before it was sent", null, ct);
            }
            else
            {
                await store.SetStatusAsync(row.Id, "unknown", $"interrupted while sending over {transport.Name}; check the recipients' mailboxes before sending it again", null, ct);
                logger.MailDeliveryUnknown(row.Reference, transport.Name);
                unknown++;
            }
        }

        foreach (var row in await store.DueAsync(time.GetUtcNow(), ct))
        {
            if (!await store.ClaimAsync(row.Id, ct))
            {
                continue;
            }

            using var activity = Telemetry.AgentTracing.Source.StartActivity("mail send");
            activity?.SetTag("auditagent.mail.kind", row.Kind);
            var from = options.Value.SenderMailbox ?? "auditagent@localhost";
            var message = MailComposer.Compose(row, from);
            await WriteToFolderAsync(row, message, ct);
            try
            {
                await transport.SendAsync(message, ct);
                await store.SetStatusAsync(row.Id, "sent", null, time.GetUtcNow(), ct);
                metrics.MailSent(row.Kind, sent: true);
                sent++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Recorded and retried by the next fire; the job reports the failure.
                var reason = GraphErrors.Describe(ex);
                await store.SetStatusAsync(row.Id, "failed", reason, null, CancellationToken.None);
                logger.MailFailed(row.Kind, row.Reference, reason);
                Telemetry.AgentTracing.Fail(activity, ex);
                metrics.MailSent(row.Kind, sent: false);
                failed++;
            }
        }

        return new DeliverySummary(sent, failed, recovered, unknown);
    }

    private async Task WriteToFolderAsync(OutboxRow row, MimeKit.MimeMessage message, CancellationToken ct)
    {
        if (options.Value.OutputFolder is not { Length: > 0 } folder)
        {
            return;
        }

        // Mail names people and subjects: the folder and its files are the agent's user's alone.
        OwnerOnly.CreateDirectory(folder);
        var name = $"{row.CreatedAt.UtcDateTime:yyyyMMdd-HHmmss}-{row.Kind}-{row.Reference}";
        var create = OwnerOnly.Write(FileMode.Create);

        await using (var eml = new FileStream(Path.Combine(folder, name + ".eml"), create))
        {
            await message.WriteToAsync(eml, ct);
        }

        await using var html = new StreamWriter(new FileStream(Path.Combine(folder, name + ".html"), create));
        await html.WriteAsync(row.Html.AsMemory(), ct);
    }
}
