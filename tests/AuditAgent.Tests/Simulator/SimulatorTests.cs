using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AuditAgent.Simulator;

namespace AuditAgent.Tests.Simulator;

/// <summary>The simulator answers like Graph: paths, paging, tokens, errors, throttling, batching.</summary>
public sealed class SimulatorTests : IAsyncLifetime
{
    private SimulatorServer _sim = null!;
    private HttpClient _http = null!;
    private GeneratedTenant _tenant = null!;

    public async Task InitializeAsync()
    {
        _tenant = TenantGenerator.Generate(new GeneratorSettings { Mailboxes = 12, MessagesPerMailbox = 25, Seed = 3, Now = DateTimeOffset.UtcNow });
        _sim = await SimulatorServer.StartAsync(_tenant.Tenant, new SimulatorOptions { RetryAfterSeconds = 2 });
        _http = new HttpClient();
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _sim.Token);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sim.DisposeAsync();
    }

    private SimUser User => _tenant.Tenant.Users[0];

    private async Task<JsonObject> GetAsync(string url, string? prefer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url.StartsWith("http", StringComparison.Ordinal) ? url : _sim.BaseUrl + url);
        if (prefer is not null)
        {
            request.Headers.Add("Prefer", prefer);
        }

        using var response = await _http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task Request_WithoutBearerToken_Gets401()
    {
        using var anonymous = new HttpClient();
        using var response = await anonymous.GetAsync(_sim.BaseUrl + "/domains");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("InvalidAuthenticationToken", (string?)error!["error"]!["code"]);
    }

    [Fact]
    public async Task Delta_PagesWithPreferHeaderAndEndsWithDeltaLink_ThenOnlyNewMail()
    {
        var pages = 0;
        var ids = new List<string>();
        var page = await GetAsync($"/users/{User.Id}/mailFolders/sentitems/messages/delta()?$select=subject,toRecipients", "odata.maxpagesize=10");
        while (true)
        {
            pages++;
            var values = page["value"]!.AsArray();
            Assert.True(values.Count <= 10);
            foreach (var m in values)
            {
                ids.Add((string)m!["id"]!);
                Assert.Null(m["body"]);
                Assert.NotNull(m["toRecipients"]);
                Assert.Null(m["ccRecipients"]);
            }

            if (page["@odata.nextLink"] is { } next)
            {
                page = await GetAsync((string)next!, "odata.maxpagesize=10");
                continue;
            }

            break;
        }

        Assert.Equal(3, pages);
        Assert.Equal(25, ids.Distinct().Count());
        var deltaLink = (string)page["@odata.deltaLink"]!;
        Assert.Empty((await GetAsync(deltaLink))["value"]!.AsArray());

        User.AddSentItem(new SimMessage { Id = "fresh", Subject = "new", SentDateTime = DateTimeOffset.UtcNow, ReceivedDateTime = DateTimeOffset.UtcNow });
        var round = await GetAsync(deltaLink);
        Assert.Equal("fresh", (string?)Assert.Single(round["value"]!.AsArray())!["id"]);
        Assert.Equal("new", (string?)round["value"]![0]!["subject"]);
    }

    [Fact]
    public async Task WarmUp_ServesFirstPagesAndABatch_ThenLeavesNothingCounted()
    {
        var since = DateTimeOffset.UtcNow.AddDays(-30);
        var path = $"/v1.0/users/{{id}}/mailFolders/sentitems/messages/delta()?$filter=receivedDateTime ge {since:yyyy-MM-ddTHH:mm:ssZ}&$select=id,toRecipients";

        using var response = await _http.PostAsJsonAsync(_sim.Origin + "/_simulator/warm-up?mailboxes=5", new WarmUpRequest(path, "odata.maxpagesize=100"));
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>();

        // Five first pages and one $batch of them, all answered: the simulator's paths are the ones it serves.
        Assert.Equal(6, (int)answer!["requests"]!);
        // Then reset: the phase measured next starts from zero.
        var stats = await _http.GetFromJsonAsync<JsonObject>(_sim.Origin + "/_simulator/stats");
        Assert.Equal(0, (long)stats!["httpRequests"]!);
        Assert.Equal(0, (long)stats["messagesServed"]!);
    }

    [Fact]
    public async Task Delta_FilterOnReceivedDateTime_LimitsTheFirstSync()
    {
        var since = DateTimeOffset.UtcNow.AddDays(-10);
        var page = await GetAsync($"/users/{User.Id}/mailFolders/sentitems/messages/delta?$filter=receivedDateTime ge {since:yyyy-MM-ddTHH:mm:ssZ}", "odata.maxpagesize=100");

        var dates = page["value"]!.AsArray().Select(m => DateTimeOffset.Parse((string)m!["receivedDateTime"]!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(dates);
        Assert.True(dates.Count < 25);
        Assert.All(dates, d => Assert.True(d >= since.AddSeconds(-1)));
    }

    [Fact]
    public async Task Delta_WithoutSelect_ReturnsFullMessagesWithBody()
    {
        var page = await GetAsync($"/users/{User.Id}/mailFolders/sentitems/messages/delta");

        Assert.Equal(10, page["value"]!.AsArray().Count);
        Assert.NotNull(page["value"]![0]!["body"]!["content"]);
    }

    [Fact]
    public async Task Delta_InvalidatedToken_Answers410SyncStateNotFound()
    {
        var first = await GetAsync($"/users/{User.Id}/mailFolders/sentitems/messages/delta", "odata.maxpagesize=1000");
        User.InvalidateDeltaTokens();

        using var response = await _http.GetAsync((string)first["@odata.deltaLink"]!);

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Equal("SyncStateNotFound", (string?)(await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"]);
    }

    [Fact]
    public async Task Users_PagedWithNextLinkAndSelect()
    {
        var first = await GetAsync("/users?$top=5&$select=id,mail,accountEnabled");
        Assert.Equal(5, first["value"]!.AsArray().Count);
        Assert.NotNull(first["value"]![0]!["accountEnabled"]);
        Assert.Null(first["value"]![0]!["displayName"]);
        var all = first["value"]!.AsArray().Count;
        var next = first["@odata.nextLink"];
        while (next is not null)
        {
            var page = await GetAsync((string)next!);
            all += page["value"]!.AsArray().Count;
            next = page["@odata.nextLink"];
        }

        Assert.Equal(_tenant.Tenant.Users.Count, all);
    }

    [Fact]
    public async Task Manager_ReturnsTheManagerOr404()
    {
        var report = _tenant.Tenant.Users[7];
        var manager = await GetAsync($"/users/{report.Id}/manager");
        Assert.Equal(report.ManagerId, (string?)manager["id"]);

        using var none = await _http.GetAsync($"{_sim.BaseUrl}/users/{_tenant.Tenant.Users[0].Id}/manager");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task MailboxConcurrency_OverFourInFlight_Gets429ApplicationThrottledWithRetryAfter()
    {
        await using var slow = await SimulatorServer.StartAsync(_tenant.Tenant, new SimulatorOptions { Latency = TimeSpan.FromMilliseconds(300), RetryAfterSeconds = 2 });
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", slow.Token);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => http.GetAsync($"{slow.BaseUrl}/users/{User.Id}/mailFolders/sentitems/messages/delta")));

        var throttled = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(4, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(4, throttled.Count);
        Assert.Equal("2", throttled[0].Headers.GetValues("Retry-After").Single());
        Assert.Contains("MailboxConcurrency", await throttled[0].Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_RunsUpTo20RequestsAndThrottlesEachOnItsOwn()
    {
        var requests = new JsonArray([.. Enumerable.Range(1, 6).Select(i => (JsonNode)new JsonObject
        {
            ["id"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["method"] = "GET",
            ["url"] = $"/users/{User.Id}/mailFolders/sentitems/messages/delta",
        })]);
        await using var slow = await SimulatorServer.StartAsync(_tenant.Tenant, new SimulatorOptions { Latency = TimeSpan.FromMilliseconds(200) });
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", slow.Token);

        using var response = await http.PostAsJsonAsync($"{slow.BaseUrl}/$batch", new JsonObject { ["requests"] = requests });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var parts = (await response.Content.ReadFromJsonAsync<JsonObject>())!["responses"]!.AsArray();
        Assert.Equal(6, parts.Count);
        Assert.Equal(4, parts.Count(p => (int)p!["status"]! == 200));
        Assert.Equal(2, parts.Count(p => (int)p!["status"]! == 429));
        Assert.NotNull(parts.First(p => (int)p!["status"]! == 200)!["body"]!["value"]);
        Assert.Equal(1, slow.Counters.HttpRequests);

        var tooMany = new JsonArray([.. Enumerable.Range(1, 21).Select(i => (JsonNode)new JsonObject { ["id"] = $"{i}", ["method"] = "GET", ["url"] = "/domains" })]);
        using var rejected = await http.PostAsJsonAsync($"{slow.BaseUrl}/$batch", new JsonObject { ["requests"] = tooMany });
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
    }

    [Fact]
    public async Task SendMail_IsRecordedAndAnswers202()
    {
        var body = new JsonObject { ["message"] = new JsonObject { ["subject"] = "Digest" }, ["saveToSentItems"] = false };

        using var response = await _http.PostAsJsonAsync($"{_sim.BaseUrl}/users/{User.UserPrincipalName}/sendMail", body);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var sent = Assert.Single(_sim.Tenant.SentMail);
        Assert.Equal(User.Id, sent.UserId);
        Assert.Equal("Digest", sent.Subject);
    }

    [Fact]
    public async Task MailboxOutsideAppScope_Gets403AccessDenied()
    {
        _tenant.Tenant.Users[3].OutsideAppScope = true;

        using var response = await _http.GetAsync($"{_sim.BaseUrl}/users/{_tenant.Tenant.Users[3].Id}/mailFolders/sentitems/messages/delta");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Access to OData is disabled.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void Generator_SameSeed_GivesTheSameTenant()
    {
        var settings = _tenant.Settings;
        var again = TenantGenerator.Generate(settings);

        Assert.Equal(_tenant.Exposures, again.Exposures);
        var a = _tenant.Tenant.Users[4].SentItemsRange(0, 25).Select(m => (m.Id, m.Subject, m.To.Count)).ToList();
        var b = again.Tenant.Users[4].SentItemsRange(0, 25).Select(m => (m.Id, m.Subject, m.To.Count)).ToList();
        Assert.Equal(a, b);
    }
}
