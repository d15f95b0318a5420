using System.Globalization;
using AuditAgent.Tests.Support;
using DocumentFormat.OpenXml.Packaging;
using Microsoft.Extensions.DependencyInjection;
using static AuditAgent.Tests.Support.Commands;

namespace AuditAgent.Tests.Breach;

/// <summary>The drafted notification to the supervisory authority: every Art. 33(3) item, filled where the agent knows it; Word opens it; never an address.</summary>
public sealed class NoticeTests
{
    [Fact]
    public async Task TheNotification_HasEveryArt33Item_FilledFromTheIncident_InMarkdownHtmlAndWord_WithoutAnAddress()
    {
        var (tenant, people) = TenantBuilder.OneExposure("Autumn price list");
        await using var agent = await AgentHarness.StartAsync(tenant);
        await agent.ScanAndProcessAsync();
        var id = Assert.Single(await agent.IncidentsAsync()).Id;
        var n = id.ToString(CultureInfo.InvariantCulture);
        using var folder = new TempFolder();
        var config = await folder.WriteSettingsAsync(new
        {
            Storage = new { SqlitePath = agent.DatabasePath },
            Notifications = new { Organisation = "Contoso Ltd" },
            Breach = new { DpoName = "Dana Privacy", DpoEmail = "dpo@contoso.com", Authority = "Information Commissioner's Office" },
        });
        await RunAsync("incidents", "step", n, "stop-spread", "done", "--by", "boss@contoso.com", "--note", "Ann will not write to the list again", "--config", config);
        await RunAsync("incidents", "assess", n, "--risk", "risk", "--reasons", "customers' addresses shown to competitors", "--notify-authority", "yes", "--tell-subjects", "no", "--by", "dpo@contoso.com", "--config", config);
        var docx = Path.Combine(folder.Path, "notice.docx");

        var md = await RunAsync("incidents", "notice", n, "--config", config);
        var html = await RunAsync("incidents", "notice", n, "--format", "html", "--config", config);
        var word = await RunAsync("incidents", "notice", n, "--format", "docx", "--out", docx, "--config", config);
        var subjects = await RunAsync("incidents", "notice", n, "--to", "subjects", "--config", config);

        Assert.Equal((0, 0, 0), (md.ExitCode, html.ExitCode, word.ExitCode));
        foreach (var item in new[] { "Art. 33(3)(a)", "Art. 33(3)(b)", "Art. 33(3)(c)", "Art. 33(3)(d)" })
        {
            Assert.Contains(item, md.Output, StringComparison.Ordinal);
        }

        Assert.Contains("Data subjects concerned: 30 people, at 5 organisations; 0 of the addresses are private people's own mailboxes", md.Output, StringComparison.Ordinal);
        Assert.Contains("Controller: Contoso Ltd", md.Output, StringComparison.Ordinal);
        Assert.Contains("Dana Privacy, dpo@contoso.com, [TO FILL: telephone]", md.Output, StringComparison.Ordinal);
        Assert.Contains("Categories of data subjects: [TO FILL:", md.Output, StringComparison.Ordinal);
        Assert.Contains("Stop the spread: done ", md.Output, StringComparison.Ordinal);
        Assert.Contains("(Ann will not write to the list again)", md.Output, StringComparison.Ordinal);
        Assert.Contains("A risk to people; notify the supervisory authority; do not tell the people affected", md.Output, StringComparison.Ordinal);
        Assert.Contains("<h2>Nature of the breach (Art. 33(3)(a))</h2>", html.Output, StringComparison.Ordinal);
        using var document = WordprocessingDocument.Open(docx, false);
        var text = document.MainDocumentPart!.Document.Body!.InnerText;
        Assert.Contains("Likely consequences (Art. 33(3)(c))", text, StringComparison.Ordinal);
        Assert.Contains("Autumn price list", text, StringComparison.Ordinal);
        Assert.Contains($"its head when this draft was made: {(await agent.IncidentAsync(id)).Incident.ChainHead}", text, StringComparison.Ordinal); // the Word draft carries the chain
        Assert.StartsWith("Subject: What happened to your email address, and what we have done\n\nDear {name},\n\nOn ", subjects.Output, StringComparison.Ordinal);
        Assert.Contains("Contoso Ltd sent an email that showed your email address, and your name where it was shown, to 29 other people", subjects.Output, StringComparison.Ordinal);
        Assert.Contains("- Stop the spread\n", subjects.Output, StringComparison.Ordinal);
        Assert.Contains("Our data protection contact: Dana Privacy, dpo@contoso.com.", subjects.Output, StringComparison.Ordinal);
        Assert.All(people.Append("ann@contoso.com"), p => Assert.DoesNotContain(p, md.Output + html.Output + text + subjects.Output, StringComparison.OrdinalIgnoreCase));
    }
}
