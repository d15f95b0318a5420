using System.Net;
using System.Net.Sockets;
using AuditAgent.Notifications;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using netDumbster.smtp;
using static AuditAgent.Tests.Support.TenantBuilder;

namespace AuditAgent.Tests.Notifications;

/// <summary>The SMTP transport against a real SMTP server on loopback.</summary>
public class SmtpTests
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Digest_OverSmtp_ArrivesOnceWithTextAndHtml_AndAnInterruptedSendIsNotRepeated()
    {
        var port = FreePort();
        using var smtp = SimpleSmtpServer.Start(port);
        var t = new TenantBuilder();
        t.Send(t.User("ann"), "Price list", Now.AddDays(-1), People(20, Companies));
        await using var agent = await AgentHarness.StartAsync(t.Tenant, settings: new Dictionary<string, string?>
        {
            ["Notifications:Transport"] = "Smtp",
            ["Notifications:SenderMailbox"] = "auditagent@contoso.com",
            ["Notifications:DigestRecipients:0"] = "security@contoso.com",
            ["Notifications:Smtp:Host"] = "127.0.0.1",
            ["Notifications:Smtp:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Notifications:Smtp:Security"] = "None",
        });
        await agent.ScanAndProcessAsync();
        var digests = agent.Services.GetRequiredService<DigestService>();

        var first = await digests.SendAsync(CancellationToken.None);
        await digests.SendAsync(CancellationToken.None);
        await using (var c = await agent.Services.GetRequiredService<Database>().OpenAsync(CancellationToken.None))
        {
            await c.ExecuteAsync("UPDATE outbox SET status = 'sending'");
        }

        var afterCrash = await digests.SendAsync(CancellationToken.None);

        Assert.Equal(1, first.Delivery.Sent);
        Assert.Equal(1, smtp.ReceivedEmailCount);
        using var raw = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(smtp.ReceivedEmail[0].Data));
        var message = await MimeKit.MimeMessage.LoadAsync(raw);
        Assert.StartsWith("AuditAgent daily digest", message.Subject, StringComparison.Ordinal);
        Assert.Equal("security@contoso.com", message.To.Mailboxes.Single().Address);
        Assert.Contains("New incidents: 1.", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("data-chart=\"trend\"", message.HtmlBody, StringComparison.Ordinal);
        // SMTP cannot say whether the interrupted message went out: it is left for a person, not resent.
        Assert.Equal((0, 1), (afterCrash.Delivery.Sent, afterCrash.Delivery.Unknown));
        Assert.Equal(1, smtp.ReceivedEmailCount);
    }
}
