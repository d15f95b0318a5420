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
    private static readonly CsvConfiguration Configuration = new(CultureInfo.InvariantCulture) { InjectionOptions = InjectionOptions.Escape };

    public static void Write<T>(TextWriter output, IEnumerable<T> records)
    {
        using var csv = new CsvWriter(output, Configuration, leaveOpen: true);
        csv.WriteRecords(records);
    }

    /// <summary>Rows of text under a header, for tables whose columns are chosen at run time.</summary>
    public static void Write(TextWriter output, IEnumerable<string> header, IEnumerable<IEnumerable<string>> rows)
    {
        using var csv = new CsvWriter(output, Configuration, leaveOpen: true);
        foreach (var row in rows.Prepend(header))
        {
            foreach (var field in row)
            {
                csv.WriteField(field);
            }

            csv.NextRecord();
        }
    }
}
