using System.IO.Compression;
using System.Text;

namespace DinCluster.Data.Importers;

/// <summary>Opens importer inputs: UTF-8 text (a BOM is skipped), gunzipped on the fly when the name ends in .gz.</summary>
internal static class InputFiles
{
    public static StreamReader OpenText(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"input file {path} does not exist", path);
        Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) stream = new GZipStream(stream, CompressionMode.Decompress);
        return new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
    }

    /// <summary>Bytes on disk (compressed size for .gz): what partition counts are estimated from.</summary>
    public static long Size(string path) => new FileInfo(path).Length;
}

/// <summary>
/// Lines of a text file with their 1-based numbers; blank lines are passed over (they are not data).
/// </summary>
internal sealed class LineReader(string path) : IDisposable
{
    private readonly StreamReader _reader = InputFiles.OpenText(path);

    public string File { get; } = path;

    /// <summary>Number of the line last returned (1-based).</summary>
    public long LineNumber { get; private set; }

    public string? Next()
    {
        while (_reader.ReadLine() is { } line)
        {
            LineNumber++;
            if (!string.IsNullOrWhiteSpace(line)) return line;
        }
        return null;
    }

    public void Dispose() => _reader.Dispose();
}
