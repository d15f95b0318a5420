using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Tests.Web;

/// <summary>`GET /api/v1/events` as a SIEM pulls it: API keys made by the CLI, shown once, expiring and revocable.</summary>
public sealed class EventsApiTests
{
    [Fact]
    public async Task ApiKey_ReadsTheEventsAfterAnId_WrongExpiredAndRevokedKeysAreRefused()
    {
        var (tenant, _) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant);
        await agent.ScanAndProcessAsync();
        await using var site = await ConsoleSite.StartAsync(agent);
        var db = agent.Settings["Storage:SqlitePath"]!;
        var splunk = await Commands.RunAsync("apikeys", "create", "--name", "splunk", "--db", db);
        var old = await Commands.RunAsync("apikeys", "create", "--name", "old", "--expires", DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "--db", db);
        var key = splunk.Output.Trim();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        async Task<HttpResponseMessage> GetAsync(string query, string? bearer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{site.BaseUrl}/api/v1/events{query}"));
            if (bearer is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            }

            return await http.SendAsync(request);
        }

        using var all = await GetAsync("?after=0&limit=10", key);
        using var body = JsonDocument.Parse(await all.Content.ReadAsStringAsync());
        var last = body.RootElement.GetProperty("last").GetInt64();
        using var none = await GetAsync($"?after={last}", key);
        using var anonymous = await GetAsync("", null);
        using var wrong = await GetAsync("", key[..^2] + "xx");
        using var expired = await GetAsync("", old.Output.Trim());
        using var badLimit = await GetAsync("?limit=0", key);
        var revoke = await Commands.RunAsync("apikeys", "revoke", "1", "--db", db);
        using var revoked = await GetAsync("", key);
        var list = await Commands.RunAsync("apikeys", "list", "--db", db);

        Assert.True(splunk.ExitCode == 0, splunk.Error);
        Assert.StartsWith("aak_", key, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.Equal("incident.opened", Assert.Single(body.RootElement.GetProperty("events").EnumerateArray()).GetProperty("type").GetString());
        Assert.Empty(JsonDocument.Parse(await none.Content.ReadAsStringAsync()).RootElement.GetProperty("events").EnumerateArray());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        Assert.True(revoke.ExitCode == 0, revoke.Error);
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("revoked", list.Output, StringComparison.Ordinal);
        Assert.Contains("expired", list.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(key, list.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(key, splunk.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EntraAppToken_WithTheEventsReaderRole_ReadsEvents_WithoutIt_OrForAnotherAudience_IsRefused()
    {
        var (tenant, _) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant);
        await agent.ScanAndProcessAsync();
        await using var site = await ConsoleSite.StartAsync(agent);
        using var http = new HttpClient();
        var apps = site.Simulator.SignIn.Apps;
        var console = site.Services.GetRequiredService<AuditAgent.Web.SignInSettings>().ClientId;

        // What a SIEM does: the client-credentials grant at the tenant's token endpoint, for the console's app.
        async Task<string> TokenAsync(AuditAgent.Simulator.SimClientApp app, string resource)
        {
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = app.ClientId, ["client_secret"] = AuditAgent.Simulator.SignInProvider.AppSecret, ["scope"] = resource + "/.default",
            });
            using var answer = await http.PostAsync(new Uri(site.Simulator.Authority.Replace("/v2.0", "/oauth2/v2.0/token", StringComparison.Ordinal)), form);
            answer.EnsureSuccessStatusCode();
            return JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
        }

        async Task<HttpResponseMessage> GetAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{site.BaseUrl}/api/v1/events?after=0"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return await http.SendAsync(request);
        }

        using var reader = await GetAsync(await TokenAsync(apps.Single(a => a.Roles.Contains("AuditAgent.EventsReader")), $"api://{console}"));
        using var noRole = await GetAsync(await TokenAsync(apps.Single(a => a.Roles.Count == 0), console));
        using var otherAudience = await GetAsync(await TokenAsync(apps.Single(a => a.Roles.Count > 0), "https://graph.microsoft.com"));
        var forged = await TokenAsync(apps.Single(a => a.Roles.Count > 0), console);
        using var tampered = await GetAsync(forged[..forged.LastIndexOf('.')] + ".c2lnbmF0dXJl");

        Assert.Equal(HttpStatusCode.OK, reader.StatusCode);
        var events = JsonDocument.Parse(await reader.Content.ReadAsStringAsync()).RootElement.GetProperty("events");
        Assert.Equal("incident.opened", Assert.Single(events.EnumerateArray()).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, noRole.StatusCode);
        Assert.Contains("AuditAgent.EventsReader", await noRole.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, otherAudience.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, tampered.StatusCode);
    }

    /// <summary>
    /// A consumer paging by the last id it saw, through 50,000 events while four writers add more at the same
    /// time: every event is seen once, in id order, none skipped (on PostgreSQL an id could become visible
    /// before a lower one still being committed; event writers take a lock until commit so that it cannot).
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Paging_Through50000Events_WhileNewOnesAreWritten_NeitherMissesNorRepeatsOne(Backend backend)
    {
        const int Seeded = 45_000, Writers = 4, PerWriter = 1_250;
        var (tenant, _) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant, backend: backend);
        await agent.ScanAndProcessAsync();
        await using var site = await ConsoleSite.StartAsync(agent);
        var database = agent.Services.GetRequiredService<AuditAgent.Storage.Database>();
        await using (var c = await database.OpenAsync(CancellationToken.None))
        {
            // History: one statement, so that the test spends its time paging, not seeding.
            await Dapper.SqlMapper.ExecuteAsync(c, $$$"""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {{{Seeded}}})
                INSERT INTO events (type, occurred_at, incident_id, payload)
                SELECT 'scan.failed', '2026-11-01T00:00:00.0000000+00:00', NULL, '{"schemaVersion":1,"details":{"error":"seeded"}}' FROM n
                """);
        }

        var (_, key) = await agent.Services.GetRequiredService<AuditAgent.Storage.ApiKeyStore>().CreateAsync("pager", null, DateTimeOffset.UtcNow, CancellationToken.None);
        var store = agent.Services.GetRequiredService<AuditAgent.Storage.EventStore>();
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                await store.AppendAsync("scan.failed", new { error = $"writer {w} event {i}" }, DateTimeOffset.UtcNow, null, CancellationToken.None);
            }
        })).ToArray();
        var all = Task.WhenAll(writers);

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var seen = new List<long>();
        long after = 0;
        while (true)
        {
            var writing = !all.IsCompleted;
            using var page = JsonDocument.Parse(await http.GetStringAsync(new Uri($"{site.BaseUrl}/api/v1/events?after={after}&limit=1000")));
            var ids = page.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).ToList();
            seen.AddRange(ids);
            after = page.RootElement.GetProperty("last").GetInt64();
            if (ids.Count == 0 && !writing)
            {
                break; // the writers had finished before this empty page was read: nothing more will come
            }
        }

        await all;
        await using var check = await database.OpenAsync(CancellationToken.None);
        var stored = (await Dapper.SqlMapper.QueryAsync<long>(check, "SELECT id FROM events ORDER BY id")).ToList();
        Assert.Equal(1 + Seeded + (Writers * PerWriter), stored.Count); // with incident.opened
        Assert.Equal(stored, seen);
    }
}
