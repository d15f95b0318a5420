using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using AuditAgent.Cli;
using AuditAgent.Core.Incidents;
using AuditAgent.Hosting;
using AuditAgent.Simulator;
using AuditAgent.Storage;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditAgent.Benchmark;

public sealed record ConsoleBenchSettings(int Incidents, int FindingsPerIncident, int Requests, string? PostgresServer);

/// <summary>One page's answer times over the requests, in milliseconds (client-side over loopback, signed in).</summary>
public sealed record ConsolePageTiming(string Page, string Path, int Requests, double P50, double P95, double Max);

public sealed record ConsoleBenchResult(ConsoleBenchSettings Settings, string Database, double SeedSeconds, IReadOnlyList<ConsolePageTiming> Pages, string Machine);

/// <summary>
/// `bench console`: a database with many incidents and findings, the console served on it as `run` serves it,
/// an analyst signed in through the simulator's provider, and each main page asked for many times in a row.
/// </summary>
public sealed partial class ConsoleBenchmark(ConsoleBenchSettings settings, TextWriter log)
{
    public async Task<ConsoleBenchResult> RunAsync(CancellationToken ct)
    {
        var tenant = new SimTenant("00000000-0000-0000-0000-0000000bec40", [new SimDomain("contoso.com", IsDefault: true)]);
        await using var simulator = await SimulatorServer.StartAsync(tenant, new SimulatorOptions(), ct);
        var folder = Directory.CreateTempSubdirectory("auditagent-bench-console-").FullName;
        string? postgresDatabase = null;
        var overrides = new Dictionary<string, string?>
        {
            ["Graph:BaseUrl"] = simulator.BaseUrl,
            ["Graph:AccessToken"] = simulator.Token,
            ["Graph:TenantId"] = tenant.TenantId,
            ["Storage:SqlitePath"] = Path.Combine(folder, "console.db"),
            ["Web:Urls"] = "http://127.0.0.1:0",
            ["Web:Authority"] = simulator.Authority,
            ["Web:ClientId"] = "auditagent-bench-console",
            ["Web:ClientSecret"] = SignInProvider.ClientSecret,
        };
        if (settings.PostgresServer is { } server)
        {
            postgresDatabase = "aa_bench_" + Guid.NewGuid().ToString("N")[..12];
            await using (var admin = new Npgsql.NpgsqlConnection(server))
            {
                await admin.ExecuteAsync($"CREATE DATABASE {postgresDatabase}");
            }

            overrides["Storage:Provider"] = "PostgreSql";
            overrides["Storage:ConnectionString"] = new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = postgresDatabase }.ConnectionString;
            overrides["Protection:Key"] = Protection.KeyRing.NewKey();
        }

        try
        {
            await using var app = AppHost.BuildWeb(null, overrides, LogLevel.Warning, embeddedOnly: true);
            await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
            var seeding = Stopwatch.StartNew();
            var sampleId = await SeedAsync(app.Services.GetRequiredService<Database>(), ct);
            await log.WriteLineAsync($"Seeded {settings.Incidents} incidents and {settings.Incidents * settings.FindingsPerIncident} findings in {seeding.Elapsed.TotalSeconds:0.0} s.");
            // The evidence check on the same database: every timeline against its hash chain.
            var verifying = Stopwatch.StartNew();
            var verdicts = await app.Services.GetRequiredService<IncidentStore>().VerifyAsync([], ct);
            verifying.Stop();
            var entries = verdicts.Sum(v => v.Entries);
            await log.WriteLineAsync(
                $"incidents verify --all: {verdicts.Count} incidents, {entries} entries in {verifying.Elapsed.TotalSeconds:0.00} s "
                + $"({verdicts.Count / verifying.Elapsed.TotalSeconds:0} incidents/s, {entries / verifying.Elapsed.TotalSeconds:0} entries/s), {verdicts.Count(v => v.Problem is not null)} broken.");
            await app.StartAsync(ct);
            var baseUrl = Web.ConsoleStart.Bound(app)[0].TrimEnd('/');
            using var client = await SignInAsync(baseUrl, ct);
            var pages = new List<ConsolePageTiming>();
            foreach (var (name, path) in new[] { ("overview", "/"), ("filtered list", "/incidents?severity=high&sort=exposed&desc=true&page=3"), ("incident", $"/incidents/{sampleId}") })
            {
                pages.Add(await MeasureAsync(client, name, baseUrl + path, ct));
                await log.WriteLineAsync($"{name}: p50 {pages[^1].P50:0.0} ms, p95 {pages[^1].P95:0.0} ms");
            }

            await app.StopAsync(ct);
            return new ConsoleBenchResult(settings, postgresDatabase is null ? "SQLite" : "PostgreSQL", seeding.Elapsed.TotalSeconds, pages,
                $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Npgsql.NpgsqlConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
            if (postgresDatabase is not null)
            {
                await using var admin = new Npgsql.NpgsqlConnection(settings.PostgresServer);
                await admin.ExecuteAsync($"DROP DATABASE IF EXISTS {postgresDatabase} WITH (FORCE)");
            }
        }
    }

    /// <summary>Incidents of every severity and status over 60 days, each with its findings, plan steps and timeline. Returns one incident's id.</summary>
    private async Task<long> SeedAsync(Database database, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var random = new Random(7);
        var severities = SeverityOrder.NamesMostSevereFirst;
        string[] statuses = ["new", "new", "acknowledged", "remediating", "resolved", "false-positive"];
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var mailboxes = Enumerable.Range(0, 200).Select(i => new { Id = $"mbx-{i}", Address = $"user{i}@contoso.com", now }).ToList();
        await c.ExecuteAsync(database.Command("INSERT INTO mailboxes (id, address, first_seen_at, last_synced_at) VALUES (@Id, @Address, @now, @now)", mailboxes, tx, ct));
        long sample = 0;
        for (var i = 0; i < settings.Incidents; i++)
        {
            var detected = now.AddMinutes(-random.Next(60 * 24 * 60));
            var mailbox = mailboxes[random.Next(mailboxes.Count)];
            var exposed = 10 + random.Next(300);
            var status = statuses[random.Next(statuses.Length)];
            var id = await c.ExecuteScalarAsync<long>(database.Command(
                """
                INSERT INTO incidents (status, severity, sender_address, subject, subject_key, first_sent_at, last_blast_at, detected_at, exposed_count,
                    domain_count, personal_count, blast_messages, copies, re_exposed, repeat_sender, reasons, notes, assignee, closed_at, updated_at)
                VALUES (@status, @severity, @sender, @subject, @key, @detected, @detected, @detected, @exposed, @domains, @personal, @blasts, @blasts,
                    @reExposed, @repeat, '["Many outside addresses were visible to each other."]', '[]', NULL, @closed, @detected)
                RETURNING id
                """,
                new
                {
                    status, severity = severities[random.Next(severities.Count)], sender = mailbox.Address, subject = $"Customer update {i}", key = $"customer update {i}",
                    detected, exposed, domains = 1 + (exposed / 7), personal = exposed / 4, blasts = settings.FindingsPerIncident,
                    reExposed = random.Next(10) == 0, repeat = random.Next(8) == 0, closed = status is "resolved" or "false-positive" ? detected.AddDays(1) : (DateTimeOffset?)null,
                },
                tx, ct));
            sample = sample == 0 && status == "new" ? id : sample;
            await c.ExecuteAsync(database.Command(
                """
                INSERT INTO findings (mailbox_id, graph_message_id, subject, sent_at, sender_address, visible_external_count, external_domain_count, bcc_count, detected_at, processed_at, incident_id, role)
                VALUES (@mailbox, @message, @subject, @sent, @sender, @exposed, 5, 0, @sent, @sent, @id, 'blast')
                """,
                Enumerable.Range(0, settings.FindingsPerIncident).Select(f => new { mailbox = mailbox.Id, message = $"m-{i}-{f}", subject = $"Customer update {i}", sent = detected.AddMinutes(-f), sender = mailbox.Address, exposed, id }),
                tx, ct));
            await c.ExecuteAsync(database.Command(
                "INSERT INTO plan_steps (incident_id, step_key, position, title, why, owner, condition, due_at, added_at) VALUES (@id, @key, @position, @title, 'Stop the spread.', @owner, 'always', @due, @detected)",
                Enumerable.Range(0, 4).Select(s => new { id, key = $"step-{s}", position = s, title = $"Step {s + 1}", owner = s % 2 == 0 ? "sender" : "security", due = detected.AddHours(8 * (s + 1)), detected }),
                tx, ct));
            await TimelineChain.AppendAsync(c, tx, database,
                new[] { ("detected", "Detected."), ("plan", "Plan added."), ("severity", "Severity set.") }.Select(e => new TimelineAppend(id, detected, "agent", e.Item1, e.Item2)), ct);
        }

        await tx.CommitAsync(ct);
        return sample;
    }

    /// <summary>An HTTP client signed in as the simulator's analyst: the console's redirect, the provider's page, its link back.</summary>
    private static async Task<HttpClient> SignInAsync(string baseUrl, CancellationToken ct)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true });
        using var provider = await client.GetAsync(new Uri(baseUrl + "/"), ct);
        var link = AnalystLink().Match(await provider.Content.ReadAsStringAsync(ct));
        if (!link.Success || provider.RequestMessage?.RequestUri is not { } page)
        {
            throw new InvalidOperationException("the sign-in page has no link for the analyst");
        }

        using var signedIn = await client.GetAsync(new Uri(page, WebUtility.HtmlDecode(link.Groups[1].Value)), ct);
        if (signedIn.RequestMessage?.RequestUri?.ToString().StartsWith(baseUrl, StringComparison.Ordinal) != true)
        {
            throw new InvalidOperationException($"signing in ended at {signedIn.RequestMessage?.RequestUri}");
        }

        return client;
    }

    private async Task<ConsolePageTiming> MeasureAsync(HttpClient client, string name, string url, CancellationToken ct)
    {
        for (var i = 0; i < 10; i++)
        {
            using var warm = await client.GetAsync(new Uri(url), ct);
            warm.EnsureSuccessStatusCode();
        }

        var times = new List<double>();
        for (var i = 0; i < settings.Requests; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await client.GetAsync(new Uri(url), ct);
            await response.Content.ReadAsByteArrayAsync(ct);
            times.Add(clock.Elapsed.TotalMilliseconds);
            if (response.StatusCode != HttpStatusCode.OK || response.RequestMessage?.RequestUri?.AbsolutePath != new Uri(url).AbsolutePath)
            {
                throw new InvalidOperationException($"{name} answered {(int)response.StatusCode} at {response.RequestMessage?.RequestUri}: not signed in?");
            }
        }

        times.Sort();
        double At(double q) => times[(int)Math.Min(times.Count - 1, Math.Ceiling(q * times.Count) - 1)];
        return new ConsolePageTiming(name, new Uri(url).PathAndQuery, times.Count, At(0.5), At(0.95), times[^1]);
    }

    [GeneratedRegex("<a href=\"([^\"]+)\">Ana Analyst</a>")]
    private static partial Regex AnalystLink();
}
