using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditAgent.Simulator;

/// <summary>
/// The tenant simulator: a Kestrel server on 127.0.0.1 that speaks Graph v1.0 JSON for one
/// <see cref="SimTenant"/>. Start it in-process; point the agent at <see cref="BaseUrl"/> with <see cref="Token"/>.
/// </summary>
public sealed class SimulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GraphRouter _router;
    private readonly Random _transportFaults;
    private readonly System.Collections.Concurrent.ConcurrentQueue<RecordedRequest> _recorded = new();

    private SimulatorServer(WebApplication app, SimTenant tenant, SimulatorOptions options)
    {
        _app = app;
        Tenant = tenant;
        Options = options;
        Token = GraphJson.Token(tenant.TenantId, options.Roles);
        SignIn = new SignInProvider(tenant.TenantId, (tenant.Domains.FirstOrDefault(d => d.IsDefault) ?? (tenant.Domains.Count > 0 ? tenant.Domains[0] : null))?.Id ?? "contoso.com");
        _router = new GraphRouter(tenant, options, Counters);
        Receivers = new SinkReceivers(tenant.TenantId);
        _transportFaults = new Random(options.FaultSeed + 1);
    }

    public SimTenant Tenant { get; }

    public SimulatorOptions Options { get; }

    /// <summary>The OpenID Connect provider the console signs in with (Entra ID's v2.0 shape).</summary>
    public SignInProvider SignIn { get; }

    /// <summary>The console's sign-in authority on this simulator: <c>{origin}/{tenant}/v2.0</c>.</summary>
    public string Authority => SignInProvider.Authority(Origin, Tenant.TenantId);

    /// <summary>Scheme, host and port, without the Graph version segment.</summary>
    public string Origin => BaseUrl[..^"/v1.0".Length];

    public SimulatorCounters Counters { get; } = new();

    /// <summary>ServiceNow, Logs Ingestion and Teams Workflows receivers for the event sinks, on <see cref="Origin"/>.</summary>
    public SinkReceivers Receivers { get; }

    /// <summary>Added to the Date header of every answer: a Graph whose clock disagrees with the agent's.</summary>
    public TimeSpan ClockOffset { get; set; }

    /// <summary>The bearer token the simulator accepts (JWT-shaped, with the configured roles).</summary>
    public string Token { get; }

    /// <summary>Graph's base URL with the version segment, e.g. http://127.0.0.1:5123/v1.0.</summary>
    public string BaseUrl { get; private set; } = "";

    public static async Task<SimulatorServer> StartAsync(SimTenant tenant, SimulatorOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        options ??= new SimulatorOptions();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, options.Port));
        var app = builder.Build();
        var server = new SimulatorServer(app, tenant, options);
        app.Run(server.HandleHttpAsync);
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = address.TrimEnd('/') + "/v1.0";
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        SignIn.Dispose();
    }

    private async Task HandleHttpAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path.StartsWith("/_simulator/", StringComparison.Ordinal))
        {
            await ControlAsync(context, path);
            return;
        }

        if (await SignIn.TryHandleAsync(context, $"{context.Request.Scheme}://{context.Request.Host}") || await Receivers.TryHandleAsync(context))
        {
            return;
        }

        SimResponse response;
        if (!path.StartsWith("/v1.0/", StringComparison.OrdinalIgnoreCase))
        {
            response = SimResponse.Json(404, GraphJson.Error("UnknownVersion", "Only v1.0 is served by this simulator."));
        }
        else if (context.Request.Headers.Authorization.ToString() != "Bearer " + Token)
        {
            response = SimResponse.Json(401, GraphJson.Error("InvalidAuthenticationToken", "Access token is empty or invalid."));
        }
        else
        {
            JsonNode? body = null;
            string? textBody = null;
            var malformed = false;
            if (context.Request.ContentType?.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase) == true)
            {
                using var reader = new StreamReader(context.Request.Body);
                textBody = await reader.ReadToEndAsync(context.RequestAborted);
            }
            else if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            {
                try
                {
                    body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                    if (Options.RecordRequests)
                    {
                        context.Items[nameof(RecordedRequest)] = body?.ToJsonString();
                    }
                }
                catch (JsonException)
                {
                    malformed = true;
                }
            }

            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var query = GraphRouter.ParseQuery(context.Request.QueryString.Value?.TrimStart('?') ?? "");
            var baseUrl = $"{context.Request.Scheme}://{context.Request.Host}/v1.0";
            response = malformed
                ? SimResponse.Json(400, GraphJson.Error("BadRequest", "Unable to read JSON request payload."))
                : await _router.HandleAsync(new SimRequest(context.Request.Method, path[5..], query, headers, body, baseUrl, textBody), context.RequestAborted);
        }

        Counters.CountHttpRequest(response.Body?.Length ?? 0);
        if (Options.RecordRequests && path.StartsWith("/v1.0/", StringComparison.OrdinalIgnoreCase))
        {
            Record(context, path);
        }

        if (Options.TransportFaultRate > 0 && path.StartsWith("/v1.0/", StringComparison.OrdinalIgnoreCase))
        {
            double roll, kind;
            lock (_transportFaults)
            {
                roll = _transportFaults.NextDouble();
                kind = _transportFaults.NextDouble();
            }

            if (roll < Options.TransportFaultRate)
            {
                Counters.CountFault();
                if (kind < 0.5 || response.Body is not { Length: > 1 })
                {
                    context.Abort();
                    return;
                }

                context.Response.StatusCode = response.Status;
                context.Response.ContentType = "application/json";
                await CutAsync(context, response.Body);
                return;
            }
        }

        context.Response.StatusCode = response.Status;
        if (ClockOffset != TimeSpan.Zero)
        {
            context.Response.Headers.Date = (DateTimeOffset.UtcNow + ClockOffset).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var (name, value) in response.Headers)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.ContentType = value;
            }
            else
            {
                context.Response.Headers[name] = value;
            }
        }

        if (response.Body is { } bytes)
        {
            context.Response.ContentLength = bytes.Length;
            switch (response.Wire)
            {
                case SimWire.StalledBody:
                    await SendThenWaitAsync(context, bytes.AsMemory(0, Math.Min(bytes.Length - 1, 10)), Timeout.InfiniteTimeSpan);
                    break;
                case SimWire.TrickledBody:
                    for (var i = 0; i < bytes.Length && !context.RequestAborted.IsCancellationRequested; i++)
                    {
                        await SendThenWaitAsync(context, bytes.AsMemory(i, 1), TimeSpan.FromMilliseconds(500));
                    }

                    break;
                case SimWire.CutBody:
                    await CutAsync(context, bytes);
                    break;
                default:
                    await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
                    break;
            }
        }
    }

    /// <summary>Headers and half of the body, then the connection drops.</summary>
    private static async Task CutAsync(HttpContext context, byte[] body)
    {
        await context.Response.Body.WriteAsync(body.AsMemory(0, body.Length / 2), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        context.Abort();
    }

    /// <summary>Sends part of a body and waits (until the client gives up, when that is sooner).</summary>
    private static async Task SendThenWaitAsync(HttpContext context, ReadOnlyMemory<byte> part, TimeSpan wait)
    {
        try
        {
            await context.Response.Body.WriteAsync(part, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(wait, context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client gave up (its deadline), or the simulator is stopping.
        }
    }

    /// <summary>
    /// New mail in a share of the mailboxes, as if people had kept working: one message each, every
    /// fourth of them an exposure. Returns how many messages were added.
    /// </summary>
    public int AddMail(double share, int seed)
    {
        var rng = new Random(seed);
        var added = 0;
        var now = DateTimeOffset.UtcNow;
        foreach (var user in Tenant.Users.Where(u => u.Mail is not null))
        {
            if (rng.NextDouble() >= share)
            {
                continue;
            }

            var id = $"AAMkADnew{seed:x4}{added:x6}AAA=";
            user.AddSentItem(added % 4 == 0
                ? TenantGenerator.Exposure(user, id, now, 10 + rng.Next(20), seed + added, "Follow-up on our offer")
                : new SimMessage
                {
                    Id = id,
                    InternetMessageId = $"<{id}@sim.contoso.com>",
                    Subject = "Quick update",
                    SentDateTime = now,
                    ReceivedDateTime = now,
                    From = new SimRecipient(user.Mail, user.DisplayName),
                    To = [new SimRecipient("partner@fabrikam.com", "Partner")],
                });
            added++;
        }

        return added;
    }

    /// <summary>
    /// One exposure sent now by a random mailbox that a scan reads (a person's, signed in, with an Exchange mailbox):
    /// <paramref name="visible"/> outside people in To. What the detection-latency benchmark injects while the agent runs.
    /// </summary>
    public (string MailboxId, string MessageId, DateTimeOffset SentDateTime) AddExposure(int visible, int seed)
    {
        var rng = new Random(seed);
        var senders = Tenant.Users.Where(u => u is { Mail: not null, HasMailbox: true, AccountEnabled: true, UserPurpose: "user" }).ToList();
        var sender = senders[rng.Next(senders.Count)];
        var id = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"AAMkADlat{(uint)seed:x8}AAA=");
        var now = DateTimeOffset.UtcNow;
        sender.AddSentItem(TenantGenerator.Exposure(sender, id, now, visible, seed, "Invitation: partner day"));
        return (sender.Id, id, now);
    }

    /// <summary>
    /// Counters and recorded requests back to zero, and every mailbox's generated Sent Items forgotten, so that each
    /// measured phase finds the simulator in the same state and pays for generating what it reads.
    /// </summary>
    private void Reset()
    {
        Counters.Reset();
        _recorded.Clear();
        foreach (var user in Tenant.Users)
        {
            user.ForgetGenerated();
        }

        GC.Collect();
    }

    /// <summary>
    /// Serves, to itself over HTTP, the first page of the first <paramref name="mailboxes"/> mailboxes (a path under
    /// /v1.0 with <c>{id}</c> for the user) and one <c>$batch</c> of such pages, then resets; returns how many were
    /// answered with success. A fresh simulator process compiles its hot path while it serves, and a benchmark that
    /// compares two clients must not charge that to the first.
    /// </summary>
    private async Task<int> WarmUpAsync(WarmUpRequest warmUp, int mailboxes, CancellationToken ct)
    {
        var paths = Tenant.Users.Where(u => u is { HasMailbox: true, Mail: not null, OutsideAppScope: false }).Take(mailboxes).Select(u => warmUp.Path.Replace("{id}", Uri.EscapeDataString(u.Id), StringComparison.Ordinal)).ToList();
        using var client = new HttpClient { BaseAddress = new Uri(Origin) };
        var served = 0;
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (path, token) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (warmUp.Prefer is not null)
            {
                request.Headers.TryAddWithoutValidation("Prefer", warmUp.Prefer);
            }

            using var response = await client.SendAsync(request, token);
            await response.Content.CopyToAsync(Stream.Null, token);
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref served);
            }
        });
        var batch = new JsonObject
        {
            ["requests"] = new JsonArray(paths.Take(20).Select((path, i) => (JsonNode)new JsonObject
            {
                ["id"] = (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["method"] = "GET",
                ["url"] = path["/v1.0".Length..],
            }).ToArray()),
        };
        using (var response = await client.PostAsync("/v1.0/$batch", new StringContent(batch.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), ct))
        {
            await response.Content.CopyToAsync(Stream.Null, ct);
            served += response.IsSuccessStatusCode ? 1 : 0;
        }

        Reset();
        return served;
    }

    private void Record(HttpContext context, string path)
    {
        var segments = path.Split('/');
        var chain = segments is [_, _, "users", var user, ..] ? user : segments is [_, _, "$batch"] ? null : RecordedRequest.Directory;
        var body = context.Items.TryGetValue(nameof(RecordedRequest), out var b) ? b as string : null;
        _recorded.Enqueue(new RecordedRequest(context.Request.Method, path + context.Request.QueryString.Value, context.Request.Headers["Prefer"].ToString() is { Length: > 0 } p ? p : null, body, chain));
    }

    /// <summary>Counters and controls for tests and benchmarks that run the simulator in another process.</summary>
    private async Task ControlAsync(HttpContext context, string path)
    {
        var segments = path.Trim('/').Split('/');
        switch (segments)
        {
            case ["_simulator", "stats"]:
                await context.Response.WriteAsJsonAsync(new
                {
                    httpRequests = Counters.HttpRequests,
                    bytesSent = Counters.BytesSent,
                    messagesServed = Counters.MessagesServed,
                    throttled = Counters.Throttled,
                    faultsInjected = Counters.FaultsInjected,
                    maxMailboxConcurrency = Counters.MaxMailboxConcurrency,
                    operationsByKind = Counters.OperationsByKind,
                    operationsByMailbox = Counters.OperationsByMailbox,
                    roundStartsByMailbox = Counters.RoundStartsByMailbox,
                });
                break;
            case ["_simulator", "requests"]:
                await context.Response.WriteAsJsonAsync(_recorded.ToArray());
                break;
            case ["_simulator", "reset"] when HttpMethods.IsPost(context.Request.Method):
                Reset();
                context.Response.StatusCode = 204;
                break;
            case ["_simulator", "warm-up"] when HttpMethods.IsPost(context.Request.Method):
                var template = await JsonSerializer.DeserializeAsync<WarmUpRequest>(context.Request.Body, JsonSerializerOptions.Web, context.RequestAborted);
                var mailboxes = int.TryParse(context.Request.Query["mailboxes"], System.Globalization.CultureInfo.InvariantCulture, out var m) ? m : 64;
                await context.Response.WriteAsJsonAsync(new { requests = await WarmUpAsync(template!, mailboxes, context.RequestAborted) });
                break;
            case ["_simulator", "add-mail"] when HttpMethods.IsPost(context.Request.Method):
                var share = double.TryParse(context.Request.Query["share"], System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : 0.05;
                var seed = int.TryParse(context.Request.Query["seed"], System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 1;
                await context.Response.WriteAsJsonAsync(new { added = AddMail(share, seed) });
                break;
            case ["_simulator", "add-exposure"] when HttpMethods.IsPost(context.Request.Method):
                var visible = int.TryParse(context.Request.Query["visible"], System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 20;
                var exposureSeed = int.TryParse(context.Request.Query["seed"], System.Globalization.CultureInfo.InvariantCulture, out var e) ? e : 1;
                var (mailboxId, messageId, sentDateTime) = AddExposure(visible, exposureSeed);
                await context.Response.WriteAsJsonAsync(new { mailboxId, messageId, sentDateTime });
                break;
            case ["_simulator", "users", var id, "invalidate-delta"] when HttpMethods.IsPost(context.Request.Method) && Tenant.FindUser(id) is { } user:
                user.InvalidateDeltaTokens();
                context.Response.StatusCode = 204;
                break;
            default:
                context.Response.StatusCode = 404;
                break;
        }
    }
}

/// <summary>What <c>/_simulator/warm-up</c> requests: a Graph path with <c>{id}</c> for the mailbox, and its Prefer header.</summary>
public sealed record WarmUpRequest(string Path, string? Prefer);
