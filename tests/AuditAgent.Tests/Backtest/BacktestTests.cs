using System.Globalization;
using System.Text.Json;
using AuditAgent.Core.Backtest;
using AuditAgent.Notifications;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static AuditAgent.Tests.Support.Commands;

namespace AuditAgent.Tests.Backtest;

/// <summary>Prevention rules replayed against a tenant whose every message's counts are known.</summary>
public sealed class BacktestTests
{
    /// <summary>
    /// Eleven messages: ann's four to colleagues (5 recipients, none outside); bob's three newsletters (himself in To,
    /// 40 outside in Bcc: 41 recipients, 40 external, 0 visible); carl's two partner mails (8 outside, visible);
    /// dora's incident (30 outside, visible) and eve's (12 outside and 3 colleagues, visible).
    /// </summary>
    private static AuditAgent.Simulator.SimTenant KnownTenant(out List<string> colleagues)
    {
        var t = new TenantBuilder();
        var (ann, bob, carl, dora, eve) = (t.User("ann"), t.User("bob"), t.User("carl"), t.User("dora"), t.User("eve"));
        colleagues = ["ann@contoso.com", "bob@contoso.com", "carl@contoso.com", "dora@contoso.com", "eve@contoso.com"];
        var at = TenantBuilder.Now.AddDays(-6);
        for (var i = 0; i < 4; i++)
        {
            t.Send(ann, $"Team {i}", at.AddHours(i), colleagues);
        }

        for (var i = 0; i < 3; i++)
        {
            t.Send(bob, $"Newsletter {i}", at.AddHours(i), [bob.Mail!], bcc: TenantBuilder.People(40, TenantBuilder.Companies));
        }

        for (var i = 0; i < 2; i++)
        {
            t.Send(carl, $"Partner sync {i}", at.AddHours(i), TenantBuilder.People(8, TenantBuilder.Companies));
        }

        t.Send(dora, "Price list", at, TenantBuilder.People(30, TenantBuilder.Companies));
        t.Send(eve, "Event invitation", at, TenantBuilder.People(12, TenantBuilder.Companies), cc: ["ann@contoso.com", "bob@contoso.com", "carl@contoso.com"]);
        return t.Tenant;
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Backtest_KnownCounts_EachRuleCatchesMissesAndInterruptsWhatTheCountsSay(Backend backend)
    {
        await using var agent = await AgentHarness.StartAsync(KnownTenant(out _), backend: backend);
        await agent.ScanAndProcessAsync();
        var incidents = (await agent.IncidentsAsync()).ToDictionary(i => i.Subject!, i => i.Id);
        using var folder = new TempFolder();
        var config = await agent.WriteStorageSettingsAsync(folder);

        var (code, output, error) = await RunAsync("backtest", "--warn-over", "25", "--block-over", "100", "--since", "30d", "--format", "json", "--config", config);

        Assert.True(code == 0, error);
        var r = JsonDocument.Parse(output).RootElement;
        Assert.Equal((11, 2, 5), (r.GetProperty("messages").GetInt32(), r.GetProperty("incidents").GetInt32(), r.GetProperty("users").GetInt32()));
        var rules = r.GetProperty("rules").EnumerateArray().ToList();
        string Ids(JsonElement rule, string name) => string.Join(',', rule.GetProperty(name).EnumerateArray().Select(x => x.GetInt64()));
        var (price, invitation) = (incidents["Price list"].ToString(CultureInfo.InvariantCulture), incidents["Event invitation"].ToString(CultureInfo.InvariantCulture));

        // MailTips at 25 recipients: dora's 30 warned, eve's 15 missed; bob's three newsletters (41) warned.
        Assert.Equal((price, "", invitation, 3L, 0L), (Ids(rules[0], "incidentsWarned"), Ids(rules[0], "incidentsBlocked"), Ids(rules[0], "incidentsMissed"),
            rules[0].GetProperty("messagesWarned").GetInt64(), rules[0].GetProperty("messagesBlocked").GetInt64()));
        // DLP above 100: nothing is that large.
        Assert.Equal(2, rules[1].GetProperty("incidentsMissed").GetArrayLength());
        Assert.Equal(0, rules[1].GetProperty("messagesBlocked").GetInt64());
        // The prompt on visible external recipients: dora's warned, eve's missed, no legitimate message interrupted.
        Assert.Equal((price, invitation, 0L), (Ids(rules[2], "incidentsWarned"), Ids(rules[2], "incidentsMissed"), rules[2].GetProperty("messagesWarned").GetInt64()));

        var recommended = r.GetProperty("recommendations").EnumerateArray().ToDictionary(x => x.GetProperty("metric").GetString()!);
        Assert.Equal((14, 3L), (recommended["AllRecipients"].GetProperty("over").GetInt32(), recommended["AllRecipients"].GetProperty("interruptions").GetInt64()));
        Assert.Equal((11, 3L), (recommended["ExternalRecipients"].GetProperty("over").GetInt32(), recommended["ExternalRecipients"].GetProperty("interruptions").GetInt64()));
        Assert.Equal((11, 0L), (recommended["VisibleExternal"].GetProperty("over").GetInt32(), recommended["VisibleExternal"].GetProperty("interruptions").GetInt64()));

        var text = await RunAsync("backtest", "--warn-over", "10", "--block-over", "20", "--external-only", "--config", config);
        Assert.Contains("Purview DLP RecipientCountOver: block above 20 external recipients\n  incidents: 0 warned, 1 blocked, 1 missed (#", text.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("Catches every incident with the fewest interruptions: more than 11 visible external recipients (To and Cc): 0 legitimate messages", text.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CountRows_OnePerMessage_ReplayedPagesAddNothing_PurgedPastRetention()
    {
        await using var agent = await AgentHarness.StartAsync(KnownTenant(out _));
        await agent.ScanAsync();
        var database = agent.Services.GetRequiredService<AuditAgent.Storage.Database>();
        var store = agent.Services.GetRequiredService<AuditAgent.Storage.OperationsStore>();

        var (rows, _) = await database.TableSizeAsync("message_stats", CancellationToken.None);
        agent.Simulator.Tenant.Users[0].InvalidateDeltaTokens(); // ann's mailbox is read again from the start
        await agent.ScanAsync();
        var (again, _) = await database.TableSizeAsync("message_stats", CancellationToken.None);
        var kept = await store.PurgeAsync(DateTimeOffset.UtcNow.AddDays(-180), DateTimeOffset.UtcNow.AddDays(-60), DateTimeOffset.UtcNow.AddDays(-90), DateTimeOffset.UtcNow.AddDays(-7), CancellationToken.None);
        var purged = await store.PurgeAsync(DateTimeOffset.UtcNow.AddDays(-180), DateTimeOffset.UtcNow.AddDays(-60), DateTimeOffset.UtcNow.AddDays(-90), DateTimeOffset.UtcNow.AddDays(-5), CancellationToken.None);

        Assert.Equal((11L, 11L), (rows, again));
        Assert.Equal((0, 11), (kept.MessageStats, purged.MessageStats)); // sent six days ago
    }

    [Theory]
    [InlineData("30x")]
    [InlineData("0d")]
    public async Task Backtest_BadSince_IsRefusedNamingTheOption(string since)
    {
        var (code, _, error) = await RunAsync("backtest", "--since", since, "--db", Path.Combine(Path.GetTempPath(), "nothing.db"));

        Assert.NotEqual(0, code);
        Assert.Contains($"--since '{since}' is not a number of days", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_BlockTakesPrecedence_AndTheRecommendationIsBelowTheSmallestIncident()
    {
        var legitimate = new CountHistogram(new Dictionary<int, long> { [5] = 100, [20] = 7, [60] = 2 });
        IncidentCount[] incidents = [new(1, 12), new(2, 80)];
        var period = new ReplayPeriod(Weeks: 2, Users: 50);

        var outcome = RuleReplay.Replay(new PreventionRule("r", RuleMetric.VisibleExternal, WarnOver: 10, BlockOver: 50), legitimate, incidents, period);
        var best = RuleReplay.Recommend(RuleMetric.VisibleExternal, legitimate, incidents, period)!;

        Assert.Equal([1L], outcome.IncidentsWarned);
        Assert.Equal([2L], outcome.IncidentsBlocked);
        Assert.Equal((7L, 2L), (outcome.MessagesWarned, outcome.MessagesBlocked));
        Assert.Equal((3.5, 7.0), (outcome.WarnedPerWeek, outcome.WarnedPerWeekPer100Users));
        Assert.Equal((11, 9L, 4.5, 9.0), (best.Over, best.Interruptions, best.PerWeek, best.PerWeekPer100Users));
        Assert.Null(RuleReplay.Recommend(RuleMetric.VisibleExternal, legitimate, [], period));
    }

    [Fact]
    public async Task Digest_MondayEdition_CarriesTheRecommendation_OtherDaysDoNot()
    {
        var now = DateTimeOffset.UtcNow;
        var monday = now.AddDays(((int)DayOfWeek.Monday - (int)now.DayOfWeek + 7) % 7).Date.AddHours(9);
        var clock = new FakeTimeProvider(new DateTimeOffset(monday, TimeSpan.Zero));
        await using var agent = await AgentHarness.StartAsync(KnownTenant(out _), time: clock);
        await agent.ScanAndProcessAsync();
        var composer = agent.Services.GetRequiredService<DigestComposer>();

        var weekly = await composer.RenderAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(1));
        var tuesday = await composer.RenderAsync(CancellationToken.None);

        Assert.Contains("A prompt before sending above 11 visible external recipients would have caught all 2 incidents", weekly.Text, StringComparison.Ordinal);
        Assert.Contains("MailTips' large-audience warning at 25 recipients would have missed 1 of them.", weekly.Text, StringComparison.Ordinal);
        Assert.Contains("above <strong>11 visible external recipients</strong>", weekly.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("Weekly: preventing the next one", tuesday.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Weekly: preventing the next one", tuesday.Html, StringComparison.Ordinal);
    }
}
