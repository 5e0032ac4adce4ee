namespace Rpal.Runtime;

/// <summary>One report of the engine or of this library (<see cref="RpalEngine.Logged"/>).</summary>
/// <param name="Level"><see cref="RpalEngine.LogLevelError"/>, <see cref="RpalEngine.LogLevelWarning"/> or <see cref="RpalEngine.LogLevelInfo"/>.</param>
/// <param name="Code">What it is about, from the engine (route on this, not on the text).</param>
/// <param name="Message">The text, for people.</param>
public readonly record struct RpalLogEntry(int Level, RpalLogCode Code, string Message);
