using Spectre.Console;

namespace AuditAgent.Cli;

/// <summary>Where a command writes: stdout for results, stderr for progress and errors.</summary>
public sealed class Terminal(TextWriter output, TextWriter error, bool interactive)
{
    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>True on a real terminal: progress bars and colours. False when piped or in tests: plain lines.</summary>
    public bool Interactive { get; } = interactive;

    public static Terminal System() => new(Console.Out, Console.Error, !Console.IsOutputRedirected && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive);

    public IAnsiConsole Ansi(TextWriter? writer = null)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer ?? Output),
            Ansi = Interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = Interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!Interactive)
        {
            // A file or pipe has no width to respect; wrapping every cell at 80 columns only hurts.
            console.Profile.Width = 160;
        }

        return console;
    }
}
