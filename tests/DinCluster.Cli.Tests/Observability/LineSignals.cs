using System.Text;

namespace DinCluster.Cli.Tests.Observability;

/// <summary>
/// A log writer a test can wait on: <see cref="WaitFor"/> completes when a line containing the text
/// has been written (or was already), or fails at its deadline naming what it waited for.
/// </summary>
public sealed class LineSignals : TextWriter
{
    private readonly List<string> _lines = [];
    private readonly List<(string Text, TaskCompletionSource<string> Done)> _waiters = [];
    private readonly StringBuilder _partial = new();

    public override Encoding Encoding => Encoding.UTF8;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines) return [.. _lines];
        }
    }

    public override void Write(char value)
    {
        lock (_lines)
        {
            if (value != '\n')
            {
                _partial.Append(value);
                return;
            }
            Add(_partial.ToString().TrimEnd('\r'));
            _partial.Clear();
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_lines)
        {
            Add(_partial + value);
            _partial.Clear();
        }
    }

    public async Task<string> WaitFor(string text, TimeSpan timeout)
    {
        Task<string> task;
        lock (_lines)
        {
            if (_lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } seen) return seen;
            var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((text, done));
            task = done.Task;
        }
        try
        {
            return await task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no line containing '{text}' within {timeout.TotalSeconds:0}s; lines so far:\n{string.Join('\n', Lines)}");
        }
    }

    private void Add(string line)
    {
        _lines.Add(line);
        foreach (var w in _waiters.Where(w => line.Contains(w.Text, StringComparison.Ordinal)).ToList())
        {
            _waiters.Remove(w);
            w.Done.TrySetResult(line);
        }
    }
}
