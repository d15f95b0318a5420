using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using AuditAgent.Core.Detection;
using AuditAgent.Graph;
using AuditAgent.Protection;
using AuditAgent.Scanning;

namespace AuditAgent.Benchmark;

public sealed record PagesBenchSettings(int Mailboxes, int MessagesPerMailbox, int Rounds, int Seed);

/// <param name="MicrosecondsPerMessage">Each round's time over every page, a message at a time.</param>
public sealed record PagesBenchResult(
    PagesBenchSettings Settings,
    int Pages,
    long Messages,
    long Bytes,
    int Findings,
    int BccMailings,
    IReadOnlyList<double> MicrosecondsPerMessage,
    string Machine)
{
    public double Fastest => MicrosecondsPerMessage.Min();

    public double Median => MicrosecondsPerMessage.Order().ElementAt(MicrosecondsPerMessage.Count / 2);
}

/// <summary>
/// The CPU a page of Sent Items costs the agent, apart from everything else a scan does: the simulator serves
/// each mailbox's first delta page once (as the scan asks for it), is stopped, and then every page is read and
/// worked (<see cref="SentItemsReader.Parse"/> and <see cref="PageWork.Of"/>: counting, detection, sealing, Bcc
/// keys) on one thread, round after round. No network, no database, no second process competing for the CPU, so the
/// rounds of a run agree closely (a whole run can still land on a slower moment of a shared machine).
/// </summary>
internal sealed class PagesBenchmark(PagesBenchSettings settings, TextWriter log)
{
    public async Task<PagesBenchResult> RunAsync(CancellationToken ct)
    {
        var (pages, domains) = await FetchAsync(ct);
        var internalDomains = new InternalDomains(domains);
        var rules = new DetectionRules();
        var sensitivity = new DetectionOptions().LoadSensitivity();
        using var cipher = new RecipientCipher(KeyRing.Parse(KeyRing.NewKey(), "bench"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var screen = new MessageScreen(internalDomains, rules);
        var now = DateTimeOffset.UtcNow;

        (long Messages, int Findings, int Mailings) Round()
        {
            var (messages, findings, mailings) = (0L, 0, 0);
            foreach (var (mailbox, body) in pages)
            {
                var page = SentItemsReader.Parse(mailbox, body, now, screen);
                var work = PageWork.Of(page, mailbox, [], internalDomains, rules, sensitivity, cipher, TimeProvider.System);
                (messages, findings, mailings) = (messages + page.Messages.Count, findings + work.Findings.Count, mailings + work.BccMessages.Count);
            }

            return (messages, findings, mailings);
        }

        // One round to compile, then the measured ones.
        var counted = Round();
        var times = new List<double>();
        for (var i = 0; i < settings.Rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            Round();
            times.Add(clock.Elapsed.TotalMicroseconds / Math.Max(1, counted.Messages));
        }

        return new PagesBenchResult(settings, pages.Count, counted.Messages, pages.Sum(p => (long)p.Body.Length), counted.Findings, counted.Mailings, times,
            $"{Environment.ProcessorCount} cores, {Environment.OSVersion}");
    }

    /// <summary>
    /// Each mailbox's first page of the scan's window, as the simulator serves it to the agent, and the tenant's verified
    /// domains: the directory is read as the scan reads it (<see cref="GraphDirectory"/>), and users without a mailbox
    /// are left out.
    /// </summary>
    private async Task<(List<(Mailbox Mailbox, byte[] Body)> Pages, IReadOnlyList<string> Domains)> FetchAsync(CancellationToken ct)
    {
        using var simulator = await SimulatorProcess.StartAsync(
            ["--mailboxes", Invariant(settings.Mailboxes), "--messages-per-mailbox", Invariant(settings.MessagesPerMailbox), "--seed", Invariant(settings.Seed)], ct);
        var options = new GraphOptions { BaseUrl = simulator.BaseUrl, AccessToken = simulator.Token };
        using var graph = GraphClientFactory.Create(options);
        var directory = new GraphDirectory(graph, Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System);
        var domains = await directory.GetVerifiedDomainsAsync(ct);
        var mailboxes = await directory.GetMailboxesAsync(ct);

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", simulator.Token);
        var since = DateTimeOffset.UtcNow.AddDays(-30);
        var pages = new List<(Mailbox, byte[])>();
        foreach (var mailbox in mailboxes)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, SentItemsReader.FirstPageUrl(simulator.BaseUrl, mailbox.Id, since));
            request.Headers.TryAddWithoutValidation("Prefer", SentItemsReader.PreferPageSize(new GraphOptions().PageSize));
            using var response = await http.SendAsync(request, ct);
            if (response.IsSuccessStatusCode)
            {
                pages.Add((mailbox, await response.Content.ReadAsByteArrayAsync(ct)));
            }
        }

        await log.WriteLineAsync($"simulator: {pages.Count} pages of {mailboxes.Count} mailboxes, {pages.Sum(p => p.Item2.Length) / 1e6:0.0} MB; worked on one thread, {settings.Rounds} rounds");
        return (pages, domains);
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
