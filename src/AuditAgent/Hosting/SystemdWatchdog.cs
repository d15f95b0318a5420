using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace AuditAgent.Hosting;

/// <summary>
/// systemd's watchdog (WatchdogSec= in deploy/systemd/auditagent.service): while the host runs, "WATCHDOG=1" at
/// half the interval systemd asks for, so a hung agent is killed and restarted. Nothing happens outside systemd
/// or without WatchdogSec. (Microsoft.Extensions.Hosting.Systemd itself only says READY and STOPPING.)
/// </summary>
internal sealed class SystemdWatchdog(TimeProvider time, ISystemdNotifier? notifier = null) : BackgroundService
{
    private static readonly ServiceState Alive = new("WATCHDOG=1");

    /// <summary>Half of WATCHDOG_USEC when systemd asks this process for pings, else null.</summary>
    internal static TimeSpan? Interval(string? usec, string? pid, int processId) =>
        long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var microseconds) && microseconds > 0
        && (pid is null || pid == processId.ToString(CultureInfo.InvariantCulture))
            ? TimeSpan.FromMicroseconds(microseconds / 2.0)
            : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (notifier is not { IsEnabled: true }
            || Interval(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId) is not { } interval)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, time);
        try
        {
            do
            {
                notifier.Notify(Alive);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // Stopping: systemd was told by the host's lifetime.
        }
    }
}
