using AuditAgent.Tests.Support;
using Microsoft.Playwright;

namespace AuditAgent.Tests.Web;

/// <summary>The breach decision in the console: a privacy officer records it on the incident's page, an analyst cannot; the overview and the register show it.</summary>
public sealed class BreachConsoleTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task APrivacyOfficerRecordsTheDecision_ARefusalSaysWhy_AndTheRegisterShowsIt()
    {
        var (tenant, people) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant);
        await agent.ScanAndProcessAsync();
        var id = Assert.Single(await agent.IncidentsAsync()).Id;
        await using var site = await ConsoleSite.StartAsync(agent);

        var analyst = await (await browser.Browser.NewContextAsync()).NewPageAsync();
        await site.SignInAsync(analyst, "Ana Analyst", "/");
        await Assertions.Expect(analyst.Locator("#clocks + p + p")).ToContainTextAsync("The 1 in the list");
        await analyst.GotoAsync($"{site.BaseUrl}/incidents/{id}");
        await Assertions.Expect(analyst.GetByText("No decision yet.")).ToBeVisibleAsync();
        await Assertions.Expect(analyst.GetByRole(AriaRole.Button, new() { Name = "Record the decision" })).ToHaveCountAsync(0);

        var officer = await (await browser.Browser.NewContextAsync()).NewPageAsync();
        await site.SignInAsync(officer, "Piet Privacy", $"/incidents/{id}");
        await officer.GetByLabel("Risk to the people").SelectOptionAsync("risk");
        await officer.GetByLabel("Why", new() { Exact = true }).FillAsync("30 customers' work addresses shown to competitors");
        await officer.GetByLabel("no", new() { Exact = true }).CheckAsync();
        await officer.GetByRole(AriaRole.Button, new() { Name = "Record the decision" }).ClickAsync();
        await Assertions.Expect(officer.GetByRole(AriaRole.Alert)).ToContainTextAsync("only an unlikely risk may go unnotified");
        await officer.GetByLabel("Why", new() { Exact = true }).FillAsync("30 customers' work addresses shown to competitors");
        await officer.GetByLabel("yes", new() { Exact = true }).CheckAsync();
        await officer.GetByLabel("Tell the people affected").SelectOptionAsync("no");
        await Shots.TakeAsync(officer.Locator("form.decision"), "console-decision.png");
        await officer.GetByRole(AriaRole.Button, new() { Name = "Record the decision" }).ClickAsync();
        await Assertions.Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync("Breach decision recorded: a risk to people; notify the supervisory authority; do not tell the people affected.");
        await Assertions.Expect(officer.Locator("#decision-now")).ToContainTextAsync("piet.privacy@contoso.com");
        await officer.GotoAsync($"{site.BaseUrl}/register");
        await Assertions.Expect(officer.GetByRole(AriaRole.Status)).ToHaveTextAsync("1 incident, 0 without a decision, 1 notified or to notify.");
        await Assertions.Expect(officer.Locator("tbody tr").First).ToContainTextAsync("to notify");
        await Shots.TakeAsync(officer, "console-register.png");
        var download = await officer.RunAndWaitForDownloadAsync(() => officer.GetByRole(AriaRole.Link, new() { Name = "CSV" }).ClickAsync());
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        await officer.GotoAsync($"{site.BaseUrl}/");

        await Assertions.Expect(officer.GetByText("None: every incident has its decision.")).ToBeVisibleAsync();
        Assert.Contains(",1,risk,30 customers' work addresses shown to competitors,yes,", csv, StringComparison.Ordinal);
        Assert.Contains(",piet.privacy@contoso.com", csv, StringComparison.Ordinal);
        Assert.All(people, p => Assert.DoesNotContain(p, csv, StringComparison.OrdinalIgnoreCase));
        var decision = Assert.Single(await agent.Store.AssessmentsAsync(id, CancellationToken.None));
        Assert.Equal(("risk", true, "no"), (decision.Risk, decision.NotifyAuthority, decision.TellSubjects));
        Assert.Equal((await agent.IncidentAsync(id)).Incident.DetectedAt, decision.AwareAt); // the field left as shown: awareness stays detection
    }
}
