using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace AuditAgent.Tests.Web;

/// <summary>The apology: drafted by the agent, edited by an analyst, approved by a privacy officer; the recipient list for the bulk-mail platform, downloaded with a reason.</summary>
public sealed class ApologyTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task AnAnalystEditsTheDraft_APrivacyOfficerApprovesIt_AndDownloadsTheRecipientList()
    {
        var (tenant, people) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant);
        await agent.ScanAndProcessAsync();
        var id = Assert.Single(await agent.IncidentsAsync()).Id;
        await using var site = await ConsoleSite.StartAsync(agent, new Dictionary<string, string?>
        {
            ["Notifications:Organisation"] = "Contoso Ltd",
            ["Notifications:ApologyOffer"] = "a year of Contoso SpamShield",
        });

        var analyst = await (await browser.Browser.NewContextAsync()).NewPageAsync();
        await site.SignInAsync(analyst, "Ana Analyst", $"/incidents/{id}");
        var text = analyst.GetByLabel("Text");
        var draft = await text.InputValueAsync();
        await text.FillAsync(draft.Replace("[YOUR NAME, ROLE]", "Bob Boss, Head of Sales", StringComparison.Ordinal));
        await analyst.GetByRole(AriaRole.Button, new() { Name = "Save the apology" }).ClickAsync();
        await Assertions.Expect(analyst.GetByRole(AriaRole.Status)).ToContainTextAsync("Apology draft saved");
        await text.FillAsync(draft + "\n" + people[3]);
        await analyst.GetByRole(AriaRole.Button, new() { Name = "Save the apology" }).ClickAsync();
        await Assertions.Expect(analyst.GetByRole(AriaRole.Alert)).ToContainTextAsync("must never carry the list");

        var officer = await (await browser.Browser.NewContextAsync()).NewPageAsync();
        await site.SignInAsync(officer, "Piet Privacy", $"/incidents/{id}");
        await officer.GetByRole(AriaRole.Button, new() { Name = "Approve the apology" }).ClickAsync();
        await Assertions.Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync("Apology approved");
        await officer.GetByLabel("Reason for the recipient list").FillAsync("apology through the newsletter platform, one message each");
        var download = await officer.RunAndWaitForDownloadAsync(() => officer.GetByRole(AriaRole.Button, new() { Name = "Download the recipient list (CSV)" }).ClickAsync());
        var csv = await File.ReadAllLinesAsync((await download.PathAsync())!);

        var saved = (await site.Services.GetRequiredService<AuditAgent.Storage.IncidentStore>().ApologyAsync(id, CancellationToken.None))!;
        Assert.Contains("Bob Boss, Head of Sales", saved.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("offer you", saved.Body, StringComparison.Ordinal); // no private mailbox was exposed: nothing to offer
        Assert.DoesNotContain("\r", saved.Body, StringComparison.Ordinal);
        Assert.Contains("Contoso Ltd", saved.Body, StringComparison.Ordinal);
        Assert.StartsWith("Dear {name},", saved.Body, StringComparison.Ordinal);
        Assert.StartsWith("piet.privacy@contoso.com", saved.ApprovedBy, StringComparison.Ordinal);
        Assert.All(people, p => Assert.DoesNotContain(p, saved.Body, StringComparison.OrdinalIgnoreCase));
        Assert.Equal("name,address", csv[0]);
        Assert.Equal(people.Order(StringComparer.OrdinalIgnoreCase), csv.Skip(1).Select(l => l.Split(',')[1]).Order(StringComparer.OrdinalIgnoreCase));
        Assert.Equal($"incident-{id}-recipients.csv", download.SuggestedFilename);
        var timeline = (await agent.IncidentAsync(id)).Timeline.Select(t => t.Text).ToList();
        Assert.Contains(timeline, t => t.StartsWith("Apology draft saved by ana.analyst@contoso.com", StringComparison.Ordinal));
        Assert.Contains(timeline, t => t.StartsWith("Apology approved by piet.privacy@contoso.com", StringComparison.Ordinal));
        Assert.Contains(timeline, t => t.Contains("recipient list downloaded (CSV) for the apology: apology through the newsletter platform", StringComparison.Ordinal));
    }
}
