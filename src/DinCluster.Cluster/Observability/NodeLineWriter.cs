using System.Text;

namespace DinCluster.Cluster.Observability;

/// <summary>
/// Writes whole lines to an inner writer with a prefix naming the node ("[coordinator 127.0.0.1:4053] "),
/// so console lines of several nodes (the simulated cluster, or logs gathered in one place) say whose
/// they are. Only line-wise use is supported: text is flushed to the inner writer at each newline.
/// </summary>
public sealed class NodeLineWriter(TextWriter inner, string prefix) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        lock (_line)
        {
            if (value == '\n')
            {
                inner.WriteLine(prefix + _line.ToString().TrimEnd('\r'));
                _line.Clear();
            }
            else _line.Append(value);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_line)
        {
            inner.WriteLine(prefix + _line + value);
            _line.Clear();
        }
    }

    public override void Flush() => inner.Flush();
}
