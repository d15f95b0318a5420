using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace AuditAgent.Cli;

/// <summary>
/// CSV as every command writes it. A cell starting with =, +, -, @, tab or CR is a formula to Excel, so
/// it is escaped with a quote (OWASP's advice against CSV injection); text from mailboxes goes through
/// Formatting.SafeText before it gets here.
/// </summary>
internal static class Csv
{
    public static void Write<T>(TextWriter output, IEnumerable<T> records)
    {
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture) { InjectionOptions = InjectionOptions.Escape };
        using var csv = new CsvWriter(output, configuration, leaveOpen: true);
        csv.WriteRecords(records);
    }
}
