using System.Diagnostics;
using System.Text.RegularExpressions;
using AuditAgent.Core.Incidents;
using AuditAgent.Simulator;
using AuditAgent.Tests.Support;
using Xunit.Abstractions;

namespace AuditAgent.Tests.Notifications;

/// <summary>
/// `auditagent apologies send`, the real executable, killed with SIGKILL while it sends an apology to 30 people:
/// sometimes just before Graph takes a message, sometimes just after (it is in Sent Items, the agent never heard
/// the 202). Run again until it finishes: each person has exactly one apology, and the timeline counts 30.
/// </summary>
public sealed partial class ApologyCrashTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task KilledWhileSending_EveryPersonHasExactlyOneApology(Backend backend)
    {
        Backends.Require(backend);
        var figures = new Figures($"apology crash suite {backend}");
        figures.Run();
        var random = new Random(1515);
        var (tenant, people) = TenantBuilder.OneExposure();
        tenant.AddUser(new SimUser("id-apologies") { DisplayName = "Apologies", Mail = ApologySendTests.Mailbox, UserPrincipalName = ApologySendTests.Mailbox });
        await using var agent = await AgentHarness.StartAsync(tenant, settings: ApologySendTests.Settings(), backend: backend);
        using var folder = new TempFolder();
        await agent.ScanAndProcessAsync();
        var id = Assert.Single(await agent.IncidentsAsync()).Id;
        await ApologySendTests.ApproveAsync(agent.Services, id);

        Process? child = null;
        var requests = 0;
        var killAt = int.MaxValue;
        var killBefore = false;
        bool KillHere(bool before)
        {
            var request = before ? Interlocked.Increment(ref requests) : Volatile.Read(ref requests);
            if (before == killBefore && request == Volatile.Read(ref killAt) && child is { HasExited: false } victim)
            {
                victim.Kill(entireProcessTree: true);
                figures.Kill();
                figures.Fault(before ? "killed before Graph took the message" : "killed after Graph took it, before the agent heard");
                Volatile.Write(ref killAt, int.MaxValue);
                return true;
            }

            return false;
        }

        agent.Simulator.Tenant.BeforeMailAccepted = () => !KillHere(before: true);
        agent.Simulator.Tenant.OnMailAccepted = () => KillHere(before: false);
        string? lastOutput = null;
        async Task<int> SendAsync()
        {
            child = AgentProcess.Start(agent.Settings, folder.Path, "apologies", "send", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--by", "piet@contoso.com");
            var drain = Task.WhenAll(child.StandardOutput.ReadToEndAsync(), child.StandardError.ReadToEndAsync());
            await child.WaitForExitAsync();
            var printed = await drain;
            lastOutput = printed[0] + printed[1];
            return child.ExitCode;
        }

        for (var kill = 0; kill < 4; kill++)
        {
            killBefore = random.Next(2) == 0;
            Volatile.Write(ref killAt, Volatile.Read(ref requests) + random.Next(1, 7));
            await SendAsync();
        }

        Volatile.Write(ref killAt, int.MaxValue);
        for (var attempt = 0; attempt < 3 && await SendAsync() != 0; attempt++)
        {
        }

        var apologies = agent.Simulator.Tenant.SentMail.Where(m => m.UserId == "id-apologies").ToList();
        var perPerson = apologies.GroupBy(m => m.To.Single(), StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
        var detail = await agent.IncidentAsync(id);
        var counted = detail.Timeline.Select(t => Counted().Match(t.Text)).Where(m => m.Success).Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        figures.Difference(people.Count(p => perPerson.GetValueOrDefault(p) != 1) + Math.Abs(counted - people.Count));
        output.WriteLine(figures.Report());
        output.WriteLine(lastOutput);

        Assert.Equal(4, figures.Kinds.Values.Sum());
        Assert.Equal(people.Order(StringComparer.OrdinalIgnoreCase), perPerson.Keys.Order(StringComparer.OrdinalIgnoreCase));
        Assert.All(perPerson, p => Assert.Equal(1, p.Value));
        Assert.All(apologies, m => Assert.Equal((1, 0, 0), (m.Mime!.To.Count, m.Mime.Cc.Count, m.Mime.Bcc.Count)));
        Assert.Equal(people.Count, counted);
        Assert.Equal("done", detail.Steps.Single(s => s.StepKey == MailAnswer.ApologySent.Step()).Status);
        Assert.Contains("0 failed", lastOutput, StringComparison.Ordinal);
        Assert.Equal(0, figures.Differences);
    }

    [GeneratedRegex(@"^The apology went to (\d+) more")]
    private static partial Regex Counted();
}
