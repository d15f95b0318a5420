using AuditAgent.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AuditAgent.Tests.Support;

/// <summary>The agent as `auditagent run` builds it (Generic Host, Quartz jobs), over a harness's settings.</summary>
public static class WorkerHost
{
    public static IHost Build(IReadOnlyDictionary<string, string?> settings, TimeProvider time, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        if (extra is not null)
        {
            builder.Configuration.AddInMemoryCollection(extra);
        }

        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddAuditAgent(builder.Configuration);
        builder.Services.AddSingleton(time);
        builder.Services.AddAuditAgentWorker(builder.Configuration);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        return builder.Build();
    }

    /// <summary>Settings under which only the scan job is scheduled; mail goes to a folder.</summary>
    public static Dictionary<string, string?> OnlyScan(string scanCron = "0 0/15 * * * ?", string? timeZone = null)
    {
        const string Never = "0 0 0 1 1 ? 2099";
        var settings = new Dictionary<string, string?>
        {
            ["Schedule:ScanCron"] = scanCron,
            ["Schedule:DigestCron"] = Never,
            ["Schedule:EscalationCron"] = Never,
            ["Schedule:PurgeCron"] = Never,
            ["Schedule:ApologyCron"] = Never,
            ["Notifications:Transport"] = "None",
            ["Notifications:OutputFolder"] = Path.Combine(Path.GetTempPath(), "auditagent-worker-" + Guid.NewGuid().ToString("N")),
        };
        if (timeZone is not null)
        {
            settings["Schedule:TimeZone"] = timeZone;
        }

        return settings;
    }

    /// <summary>Waits for something the worker does on its own thread, failing after <paramref name="seconds"/>.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, int seconds = 20)
        where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"nothing happened within {seconds} s");
    }
}
