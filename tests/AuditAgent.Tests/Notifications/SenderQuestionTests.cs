using AuditAgent.Notifications;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AuditAgent.Tests.Notifications;

/// <summary>Notifications:AskSender without a console: the question goes out once, and a silence is recorded once its time has passed.</summary>
public sealed class SenderQuestionTests
{
    [Fact]
    public async Task ASenderWhoDoesNotAnswer_IsRecorded_InTheTimelineTheDigestAndTheManagersNextMail()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var output = new TempFolder();
        var (tenant, _) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant, time: clock, settings: NotificationTests.Mail(new()
        {
            ["Notifications:Transport"] = "None",
            ["Notifications:OutputFolder"] = output.Path,
            ["Notifications:EscalateFromSeverity"] = "Medium",
            ["Notifications:AskSender"] = "true",
            ["Notifications:SenderAnswerHours"] = "48",
        }));
        await agent.ScanAndProcessAsync();
        var escalations = agent.Services.GetRequiredService<EscalationService>();
        var id = Assert.Single(await agent.IncidentsAsync()).Id;

        await escalations.RunAsync(CancellationToken.None);
        await escalations.RunAsync(CancellationToken.None); // asked once, however often the job runs
        var asked = await agent.IncidentAsync(id);
        clock.Advance(TimeSpan.FromHours(47));
        await escalations.RunAsync(CancellationToken.None);
        var beforeTime = await agent.IncidentAsync(id);
        clock.Advance(TimeSpan.FromHours(2));
        await escalations.RunAsync(CancellationToken.None);
        var after = await agent.IncidentAsync(id);
        var digest = await agent.Services.GetRequiredService<DigestComposer>().RenderAsync(CancellationToken.None);

        var mails = Directory.GetFiles(output.Path, "*.eml").Select(f => MimeKit.MimeMessage.Load(f)).ToList();
        Assert.Single(mails, m => m.Subject?.StartsWith("A quick question about a message you sent", StringComparison.Ordinal) == true);
        Assert.NotNull(asked.Incident.SenderAskedAt);
        Assert.Null(beforeTime.Incident.SenderAnswer);
        Assert.Equal("no-answer", after.Incident.SenderAnswer);
        Assert.Single(after.Timeline, t => t.Text == "The sender has not answered the question about this message in time.");
        Assert.Contains("The sender has not answered the question about this message in time.", digest.Text, StringComparison.Ordinal);
        var toManager = mails.Where(m => m.To.Mailboxes.Single().Address == "boss@contoso.com").Select(m => m.TextBody ?? "").ToList();
        Assert.Contains(toManager, t => t.Contains("The sender was asked what happened and has not answered yet.", StringComparison.Ordinal)); // before the time ran out
        Assert.Contains(toManager, t => t.Contains("The sender has not answered the question about it.", StringComparison.Ordinal)); // the mail after it
    }
}
