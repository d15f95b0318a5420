namespace AuditAgent;

/// <summary>A failure whose message is already the one line a person should read (logs, status, the CLI).</summary>
public class ExplainedException(string message, Exception? inner = null) : Exception(message, inner);
