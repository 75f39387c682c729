namespace DinCluster.Data.Importers;

/// <summary>
/// The strings behind hashed ids, for the vocabularies an importer holds anyway (items, categories):
/// written as DIR/vocab/NAME.tsv ("id TAB string", by string). Also the collision check: two strings with
/// one id stop the import (never seen; 64-bit ids make it about n^2 / 2^65 likely).
/// </summary>
internal sealed class Vocabulary(string name)
{
    private readonly Dictionary<long, string> _strings = [];

    public string Name { get; } = name;
    public int Count => _strings.Count;

    public long Add(string text)
    {
        var id = StringIds.Of(text);
        if (_strings.TryGetValue(id, out var known))
        {
            if (!string.Equals(known, text, StringComparison.Ordinal))
                throw new InvalidDataException($"{Name} ids collide: '{known}' and '{text}' both hash to {id}");
        }
        else
        {
            _strings[id] = text;
        }
        return id;
    }

    public bool Contains(long id) => _strings.ContainsKey(id);

    public string Save(string outDir)
    {
        var dir = Directory.CreateDirectory(Path.Combine(outDir, "vocab")).FullName;
        var path = Path.Combine(dir, $"{Name}.tsv");
        using var w = new StreamWriter(path);
        w.WriteLine("id\tname");
        foreach (var (id, text) in _strings.OrderBy(kv => kv.Value, StringComparer.Ordinal))
            w.WriteLine($"{id}\t{Escape(text)}");
        return path;
    }

    /// <summary>Tabs and line breaks inside names would break the TSV; written as \t, \n, \r, \\.</summary>
    private static string Escape(string s) =>
        s.AsSpan().IndexOfAny('\t', '\n', '\r') < 0 && !s.Contains('\\')
            ? s
            : s.Replace("\\", "\\\\").Replace("\t", "\\t").Replace("\n", "\\n").Replace("\r", "\\r");
}
