using System.Diagnostics;
using System.Reflection;

namespace AuditAgent.Storage;

/// <summary>
/// This agent process as the other agents sharing its database see it: host and process id. It owns
/// mailbox leases, records job runs and is the Quartz instance id in a cluster.
/// </summary>
public sealed class AgentInstance
{
    public AgentInstance(string host, int pid, string? suffix = null)
    {
        Host = host;
        Pid = pid;
        Id = suffix is null ? $"{host}:{pid}" : $"{host}:{pid}:{suffix}";
    }

    public static AgentInstance Current { get; } = new(Environment.MachineName, Environment.ProcessId);

    /// <summary>When this process started: what "no successful scan yet" is measured from (readiness, the scan-age gauge).</summary>
    public static DateTimeOffset ProcessStartedAt { get; } = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public string Id { get; }

    public string Host { get; }

    public int Pid { get; }

    public static string Version { get; } =
        typeof(AgentInstance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>
    /// True when <paramref name="host"/> is this machine and no process <paramref name="pid"/> runs on it:
    /// that agent was killed, and its leases can be taken back without waiting for them to expire.
    /// </summary>
    public static bool IsDeadOnThisHost(string host, int pid)
    {
        if (!string.Equals(host, Environment.MachineName, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }
}
