using AuditAgent.Cli;
using AuditAgent.Hosting;
using AuditAgent.Simulator;
using AuditAgent.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace AuditAgent.Tests.Support;

/// <summary>
/// The console as `run` serves it (the same <see cref="AppHost.BuildWeb"/>), on a free port, over an
/// agent's database, signing people in through the simulator's OpenID Connect provider.
/// </summary>
public sealed class ConsoleSite : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ConsoleSite(WebApplication app, AgentHarness agent)
    {
        _app = app;
        Agent = agent;
        BaseUrl = ConsoleStart.Bound(app)[0].TrimEnd('/');
    }

    public AgentHarness Agent { get; }

    public string BaseUrl { get; }

    public SimulatorServer Simulator => Agent.Simulator;

    public IServiceProvider Services => _app.Services;

    /// <param name="requestLog">Receives the console's request log lines (AuditAgent.Web.Requests).</param>
    /// <param name="services">Adds to the console's services (the in-memory telemetry exporters, say).</param>
    public static async Task<ConsoleSite> StartAsync(AgentHarness agent, IReadOnlyDictionary<string, string?>? extra = null, ICollection<string>? requestLog = null, Action<IServiceCollection>? services = null)
    {
        ArgumentNullException.ThrowIfNull(agent);
        var settings = new Dictionary<string, string?>(agent.Settings)
        {
            ["Graph:TenantId"] = agent.Simulator.Tenant.TenantId,
            ["Web:Urls"] = "http://127.0.0.1:0",
            ["Web:Authority"] = agent.Simulator.Authority,
            ["Web:ClientId"] = "auditagent-test-console",
            ["Web:ClientSecret"] = SignInProvider.ClientSecret,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var app = AppHost.BuildWeb(null, settings, LogLevel.Warning, embeddedOnly: true, services: (s, _) =>
        {
            services?.Invoke(s);
            if (requestLog is not null)
            {
                s.AddSingleton<ILoggerProvider>(new LineLogger(requestLog));
                s.Configure<LoggerFilterOptions>(o => o.AddFilter<LineLogger>("AuditAgent.Web.Requests", LogLevel.Information));
            }
        });
        await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
        await app.StartAsync();
        return new ConsoleSite(app, agent);
    }

    /// <summary>
    /// Signs in as the demo user called <paramref name="name"/>: the console sends the browser to the provider's
    /// page, the user's link there goes back through /signin-oidc with a code, as Entra ID's would.
    /// </summary>
    public async Task SignInAsync(IPage page, string name, string path = "/")
    {
        ArgumentNullException.ThrowIfNull(page);
        await page.GotoAsync(BaseUrl + path);
        var href = await page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).GetAttributeAsync("href")
            ?? throw new InvalidOperationException($"no sign-in link for {name} on {page.Url}");
        var answer = await page.GotoAsync(new Uri(new Uri(page.Url), href).ToString());
        if (!page.Url.StartsWith(BaseUrl + "/", StringComparison.Ordinal))
        {
            var content = await page.ContentAsync();
            throw new InvalidOperationException($"signing in as {name} ended on {page.Url} ({answer?.Status}): {content[..Math.Min(500, content.Length)]}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Keeps every formatted log line of a category it is let through to.</summary>
public sealed class LineLogger(ICollection<string> lines) : ILoggerProvider, ILogger
{
    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (lines)
        {
            lines.Add(formatter(state, exception));
        }
    }

    public void Dispose()
    {
    }
}

/// <summary>One chromium (Debian's package) for a test class; each test takes its own context.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("AUDITAGENT_CHROMIUM") ?? "/usr/bin/chromium",
            Args = ["--no-sandbox"],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright?.Dispose();
    }

    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { JavaScriptEnabled = true });
        return await context.NewPageAsync();
    }
}
