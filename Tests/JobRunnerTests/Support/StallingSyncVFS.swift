import CSQLite
import Foundation
import Synchronization

/// A SQLite VFS over the default one whose syncs call ``stall`` first: a disk whose `fdatasync`
/// stalls, for the tests of what a slow checkpoint does. SQLite syncs inside a checkpoint while it
/// holds the log's checkpoint lock, so a stall here holds that lock as a slow disk does. Every other
/// call goes straight to the default VFS.
///
/// Open a store through it with `JobStore.Configuration.vfs = StallingSyncVFS.name` once
/// ``register()`` has run. Files opened through it hold, in this order: the `sqlite3_file` header
/// (this VFS's methods), the name SQLite passed to `xOpen` (valid until `xClose`), and the default
/// VFS's own file.
enum StallingSyncVFS {
    static let name = "jobrunner-test-stalling-sync"

    /// Called with the file's name before each sync of a file opened through this VFS; it may block.
    static let stall = Mutex<(@Sendable (String) -> Void)?>(nil)

    /// Registers the VFS (not as the default) the first time; later calls do nothing.
    static func register() { _ = registered }

    private static let registered: Bool = {
        guard let base = sqlite3_vfs_find(nil) else { preconditionFailure("SQLite has no default VFS") }
        let methods = UnsafeMutablePointer<sqlite3_io_methods>.allocate(capacity: 1)
        methods.initialize(to: ioMethods)
        let context = UnsafeMutablePointer<Context>.allocate(capacity: 1)
        context.initialize(to: Context(base: base, methods: methods))
        // Allocated once and never freed: SQLite keeps the pointers for the life of the process.
        let vfs = UnsafeMutablePointer<sqlite3_vfs>.allocate(capacity: 1)
        vfs.initialize(to: base.pointee)
        vfs.pointee.zName = UnsafePointer(strdup(name))
        vfs.pointee.szOsFile = Int32(baseFileOffset) + base.pointee.szOsFile
        vfs.pointee.pAppData = UnsafeMutableRawPointer(context)
        vfs.pointee.pNext = nil
        vfs.pointee.xOpen = { vfs, name, file, flags, outFlags in
            guard let vfs, let file else { return SQLITE_MISUSE }
            let context = vfs.pointee.pAppData.assumingMemoryBound(to: Context.self).pointee
            let inner = baseFile(file)
            let rc = context.base.pointee.xOpen!(context.base, name, inner, flags, outFlags)
            // Without methods the open failed before anything needs closing: SQLite then calls no xClose.
            guard inner.pointee.pMethods != nil else {
                file.pointee.pMethods = nil
                return rc
            }
            (UnsafeMutableRawPointer(file) + nameOffset).storeBytes(of: name, as: UnsafePointer<CChar>?.self)
            file.pointee.pMethods = UnsafePointer(context.methods)
            return rc
        }
        let rc = sqlite3_vfs_register(vfs, 0)
        precondition(rc == SQLITE_OK, "sqlite3_vfs_register: \(rc)")
        return true
    }()

    private struct Context {
        let base: UnsafeMutablePointer<sqlite3_vfs>
        let methods: UnsafeMutablePointer<sqlite3_io_methods>
    }

    private static let nameOffset = MemoryLayout<sqlite3_file>.stride
    private static let baseFileOffset = nameOffset + MemoryLayout<UnsafePointer<CChar>?>.stride

    /// The default VFS's file inside one of this VFS's files.
    private static func baseFile(_ file: UnsafeMutablePointer<sqlite3_file>) -> UnsafeMutablePointer<sqlite3_file> {
        (UnsafeMutableRawPointer(file) + baseFileOffset).assumingMemoryBound(to: sqlite3_file.self)
    }

    /// The default VFS's file and its methods, for a call to pass on.
    private static func base(_ file: UnsafeMutablePointer<sqlite3_file>?) -> (
        UnsafeMutablePointer<sqlite3_file>, sqlite3_io_methods
    ) {
        guard let file else { preconditionFailure("SQLite passed no file") }
        let inner = baseFile(file)
        return (inner, inner.pointee.pMethods.pointee)
    }

    private static let ioMethods = sqlite3_io_methods(
        iVersion: 3,
        xClose: { file in
            let (inner, methods) = base(file)
            let rc = methods.xClose!(inner)
            file?.pointee.pMethods = nil
            return rc
        },
        xRead: { file, buffer, amount, offset in
            let (inner, methods) = base(file)
            return methods.xRead!(inner, buffer, amount, offset)
        },
        xWrite: { file, buffer, amount, offset in
            let (inner, methods) = base(file)
            return methods.xWrite!(inner, buffer, amount, offset)
        },
        xTruncate: { file, size in
            let (inner, methods) = base(file)
            return methods.xTruncate!(inner, size)
        },
        xSync: { file, flags in
            let (inner, methods) = base(file)
            if let file, let stall = StallingSyncVFS.stall.withLock({ $0 }) {
                let name = (UnsafeMutableRawPointer(file) + nameOffset).load(as: UnsafePointer<CChar>?.self)
                stall(name.map { String(cString: $0) } ?? "")
            }
            return methods.xSync!(inner, flags)
        },
        xFileSize: { file, size in
            let (inner, methods) = base(file)
            return methods.xFileSize!(inner, size)
        },
        xLock: { file, level in
            let (inner, methods) = base(file)
            return methods.xLock!(inner, level)
        },
        xUnlock: { file, level in
            let (inner, methods) = base(file)
            return methods.xUnlock!(inner, level)
        },
        xCheckReservedLock: { file, result in
            let (inner, methods) = base(file)
            return methods.xCheckReservedLock!(inner, result)
        },
        xFileControl: { file, operation, argument in
            let (inner, methods) = base(file)
            return methods.xFileControl!(inner, operation, argument)
        },
        xSectorSize: { file in
            let (inner, methods) = base(file)
            return methods.xSectorSize!(inner)
        },
        xDeviceCharacteristics: { file in
            let (inner, methods) = base(file)
            return methods.xDeviceCharacteristics!(inner)
        },
        xShmMap: { file, page, pageSize, extend, region in
            let (inner, methods) = base(file)
            return methods.xShmMap!(inner, page, pageSize, extend, region)
        },
        xShmLock: { file, offset, count, flags in
            let (inner, methods) = base(file)
            return methods.xShmLock!(inner, offset, count, flags)
        },
        xShmBarrier: { file in
            let (inner, methods) = base(file)
            methods.xShmBarrier!(inner)
        },
        xShmUnmap: { file, delete in
            let (inner, methods) = base(file)
            return methods.xShmUnmap!(inner, delete)
        },
        xFetch: { file, offset, amount, pointer in
            let (inner, methods) = base(file)
            return methods.xFetch!(inner, offset, amount, pointer)
        },
        xUnfetch: { file, offset, pointer in
            let (inner, methods) = base(file)
            return methods.xUnfetch!(inner, offset, pointer)
        }
    )
}
