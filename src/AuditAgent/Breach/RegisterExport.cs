using System.Globalization;
using System.Text.Json;
using AuditAgent.Storage;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace AuditAgent.Breach;

/// <summary>
/// The breach register as an auditor asks for it (GDPR Art. 33(5)): one row per incident with its facts,
/// decision, rationale and dates, as CSV, JSON or an Excel workbook, the same columns in each. Never an exposed
/// address: only counts. Times are UTC ISO-8601.
/// </summary>
public static class RegisterExport
{
    private sealed record Column(string Name, Func<RegisterEntry, object?> Value);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly Column[] Columns =
    [
        new("incident", e => e.Id),
        new("severity", e => e.Severity),
        new("status", e => e.Status),
        new("sender", e => e.SenderAddress),
        new("sent_as", e => e.SentAs),
        new("sent_at", e => e.FirstSentAt),
        new("detected_at", e => e.DetectedAt),
        new("aware_at", e => e.AwareAt),
        new("notification_due_at", e => e.NotificationDueAt),
        new("decided_at", e => e.DecidedAt),
        new("decided_by", e => e.DecidedBy),
        new("decisions", e => e.Decisions),
        new("risk", e => e.Risk),
        new("reasons", e => e.Reasons),
        new("notify_authority", e => e.NotifyAuthority),
        new("no_notify_rationale", e => e.NoNotifyRationale),
        new("notified_at", e => e.NotifiedAt),
        new("notification_reference", e => e.NotificationReference),
        new("delay_reasons", e => e.DelayReasons),
        new("tell_subjects", e => e.TellSubjects),
        new("art34_ground", e => e.Ground),
        new("art34_ground_detail", e => e.GroundDetail),
        new("data_subjects", e => e.ExposedCount),
        new("data_subjects_in_other_incidents", e => e.ExposedElsewhere),
        new("personal_mailboxes", e => e.PersonalCount),
        new("sensitive_categories", e => e.SensitiveCategories),
        new("domains", e => e.DomainCount),
        new("messages", e => e.BlastMessages),
        new("re_exposed", e => e.ReExposed),
        new("replies_to_all", e => e.ReplyAllCount),
        new("closed_at", e => e.ClosedAt),
    ];

    public static string Csv(IReadOnlyList<RegisterEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        Cli.Csv.Write(text, Columns.Select(c => c.Name), entries.Select(e => Columns.Select(c => Text(c.Value(e)))));
        return text.ToString();
    }

    public static string Json(IReadOnlyList<RegisterEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var rows = entries.Select(e => Columns.ToDictionary(c => c.Name, c => c.Value(e)));
        return JsonSerializer.Serialize(new { register = rows }, Indented) + "\n";
    }

    /// <summary>A workbook with one sheet "Register": a header row, then one row per incident (numbers as numbers, the rest as text).</summary>
    public static byte[] Xlsx(IReadOnlyList<RegisterEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        using var stream = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var workbook = document.AddWorkbookPart();
            workbook.Workbook = new Workbook();
            var sheetPart = workbook.AddNewPart<WorksheetPart>();
            var data = new SheetData();
            data.Append(Row(Columns.Select(c => (object?)c.Name)));
            foreach (var entry in entries)
            {
                data.Append(Row(Columns.Select(c => c.Value(entry))));
            }

            sheetPart.Worksheet = new Worksheet(data);
            workbook.Workbook.AppendChild(new Sheets(new Sheet { Id = workbook.GetIdOfPart(sheetPart), SheetId = 1, Name = "Register" }));
            workbook.Workbook.Save();
        }

        return stream.ToArray();

        static Row Row(IEnumerable<object?> values) => new(values.Select(v => v switch
        {
            int or long => new Cell { DataType = CellValues.Number, CellValue = new CellValue(Convert.ToString(v, CultureInfo.InvariantCulture)!) },
            _ => new Cell { DataType = CellValues.InlineString, InlineString = new InlineString(new Text(Text(v))) },
        }));
    }

    private static string Text(object? value) => value switch
    {
        null => "",
        DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        bool b => b ? "yes" : "no",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Formatting.SafeText.Clean(value.ToString(), 2000),
    };
}
