using System.Text;

namespace Rpal.Rpc.Generator.Emitting;

/// <summary>
/// A small indented text writer for generated C#: four spaces per level, '\n' line ends, no
/// trailing whitespace on empty lines.
/// </summary>
internal sealed class SourceWriter
{
    private const int IndentSize = 4;

    private readonly StringBuilder _builder = new();
    private int _indent;

    public void WriteLine() => _builder.Append('\n');

    public void WriteLine(string line)
    {
        if (line.Length != 0)
        {
            _builder.Append(' ', _indent * IndentSize);
            _builder.Append(line);
        }

        _builder.Append('\n');
    }

    /// <summary>Writes "{" and indents.</summary>
    public void OpenBlock()
    {
        WriteLine("{");
        _indent++;
    }

    /// <summary>Unindents and writes "}" followed by <paramref name="suffix"/>.</summary>
    public void CloseBlock(string suffix = "")
    {
        _indent--;
        WriteLine("}" + suffix);
    }

    public void Indent() => _indent++;

    public void Unindent() => _indent--;

    public override string ToString() => _builder.ToString();
}
