using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace AuditAgent.Tests.Support;

/// <summary>
/// What the chaos and crash suites measured: runs, faults injected by kind, kills and differences from the
/// reference. Written to AUDITAGENT_FIGURES (a folder; .ci/run prints it) and to the test's output.
/// AUDITAGENT_SOAK_RUNS turns CI's few seeded runs into a long soak.
/// </summary>
public sealed class Figures(string suite)
{
    private readonly ConcurrentDictionary<string, int> _faults = new(StringComparer.Ordinal);
    private int _runs;
    private int _kills;
    private int _differences;

    public static int Runs(int inCi) =>
        int.TryParse(Environment.GetEnvironmentVariable("AUDITAGENT_SOAK_RUNS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : inCi;

    public int Differences => Volatile.Read(ref _differences);

    /// <summary>Faults injected so far, by kind.</summary>
    public IReadOnlyDictionary<string, int> Kinds => new Dictionary<string, int>(_faults);

    public void Run() => Interlocked.Increment(ref _runs);

    public void Kill() => Interlocked.Increment(ref _kills);

    public void Fault(string kind, int count = 1) => _faults.AddOrUpdate(kind, count, (_, n) => n + count);

    public void Difference(int count) => Interlocked.Add(ref _differences, count);

    public string Report()
    {
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{suite}: {_runs} runs, {_faults.Values.Sum()} faults injected, {_kills} kills, {_differences} differences from the reference")
            .AppendLine();
        foreach (var (kind, count) in _faults.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"  {count,6}  {kind}").AppendLine();
        }

        var report = text.ToString();
        var folder = Environment.GetEnvironmentVariable("AUDITAGENT_FIGURES");
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, suite.Replace(' ', '-') + ".txt"), report);
        }

        return report;
    }
}
