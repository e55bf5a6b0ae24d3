//! SPNEGO tokens (HTTP `Negotiate`) from the logged-in user's Kerberos ticket, through the
//! system's GSSAPI library (MIT krb5's `libgssapi_krb5`; build with the `kerberos` feature,
//! which needs it installed, e.g. Debian's `libkrb5-dev`). The ticket cache is the one
//! `kinit` fills (`KRB5CCNAME`, else the default cache).

use std::ffi::c_void;
use std::ptr;

#[repr(C)]
struct Buffer {
    length: usize,
    value: *mut c_void,
}

#[repr(C)]
struct Oid {
    length: u32,
    elements: *const c_void,
}

type Name = *mut c_void;
type Context = *mut c_void;

#[link(name = "gssapi_krb5")]
unsafe extern "C" {
    fn gss_import_name(
        minor: *mut u32,
        input: *const Buffer,
        name_type: *const Oid,
        output: *mut Name,
    ) -> u32;
    #[allow(clippy::too_many_arguments)]
    fn gss_init_sec_context(
        minor: *mut u32,
        cred: *mut c_void,
        context: *mut Context,
        target: Name,
        mech: *const Oid,
        req_flags: u32,
        time_req: u32,
        channel: *const c_void,
        input: *const Buffer,
        actual_mech: *mut *const Oid,
        output: *mut Buffer,
        ret_flags: *mut u32,
        time_rec: *mut u32,
    ) -> u32;
    fn gss_release_buffer(minor: *mut u32, buffer: *mut Buffer) -> u32;
    fn gss_release_name(minor: *mut u32, name: *mut Name) -> u32;
    fn gss_delete_sec_context(minor: *mut u32, context: *mut Context, output: *mut Buffer) -> u32;
    fn gss_display_status(
        minor: *mut u32,
        status: u32,
        status_type: i32,
        mech: *const Oid,
        message_context: *mut u32,
        output: *mut Buffer,
    ) -> u32;
}

/// GSS_C_NT_HOSTBASED_SERVICE: 1.2.840.113554.1.2.1.4.
const HOSTBASED_SERVICE: [u8; 10] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x01, 0x04];
/// SPNEGO: 1.3.6.1.5.5.2.
const SPNEGO: [u8; 6] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// Calling and routine errors of a major status.
const ERROR_MASK: u32 = 0xffff_0000;
const GSS_C_GSS_CODE: i32 = 1;
const GSS_C_MECH_CODE: i32 = 2;

fn oid(bytes: &'static [u8]) -> Oid {
    Oid {
        length: bytes.len() as u32,
        elements: bytes.as_ptr().cast(),
    }
}

/// The first SPNEGO token for `service@host` (e.g. `HTTP@adfs.corp.example`), made from the
/// default credentials cache. Blocking: it may ask the KDC for a service ticket. The error is
/// GSSAPI's own message.
pub(crate) fn negotiate_token(service: &str) -> Result<Vec<u8>, String> {
    let name_type = oid(&HOSTBASED_SERVICE);
    let mech = oid(&SPNEGO);
    let input = Buffer {
        length: service.len(),
        value: service.as_ptr().cast_mut().cast(),
    };
    let mut minor = 0u32;
    let mut name: Name = ptr::null_mut();
    // SAFETY: the buffers and OIDs outlive the calls; GSSAPI copies the name.
    let major = unsafe { gss_import_name(&mut minor, &input, &name_type, &mut name) };
    if major & ERROR_MASK != 0 {
        return Err(status_message(major, minor));
    }
    let mut context: Context = ptr::null_mut();
    let mut output = Buffer {
        length: 0,
        value: ptr::null_mut(),
    };
    // SAFETY: no credential (the default one), a fresh context, no input token; the output
    // buffer is released below.
    let major = unsafe {
        gss_init_sec_context(
            &mut minor,
            ptr::null_mut(),
            &mut context,
            name,
            &mech,
            0,
            0,
            ptr::null(),
            ptr::null(),
            ptr::null_mut(),
            &mut output,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    let result = if major & ERROR_MASK != 0 {
        Err(status_message(major, minor))
    } else if output.value.is_null() || output.length == 0 {
        Err("GSSAPI produced no token".to_string())
    } else {
        // SAFETY: GSSAPI returned `length` bytes at `value`.
        Ok(
            unsafe { std::slice::from_raw_parts(output.value.cast::<u8>(), output.length) }
                .to_vec(),
        )
    };
    let mut ignored = 0u32;
    // SAFETY: each handle is released once; null handles are accepted.
    unsafe {
        gss_release_buffer(&mut ignored, &mut output);
        if !context.is_null() {
            gss_delete_sec_context(&mut ignored, &mut context, ptr::null_mut());
        }
        gss_release_name(&mut ignored, &mut name);
    }
    result
}

/// GSSAPI's messages for a major and a minor (mechanism) status.
fn status_message(major: u32, minor: u32) -> String {
    let mut parts = messages(major, GSS_C_GSS_CODE);
    if minor != 0 {
        parts.extend(messages(minor, GSS_C_MECH_CODE));
    }
    if parts.is_empty() {
        format!("GSSAPI major status {major:#x}, minor status {minor}")
    } else {
        parts.join(": ")
    }
}

fn messages(status: u32, kind: i32) -> Vec<String> {
    let mut out = Vec::new();
    let mut message_context = 0u32;
    for _ in 0..8 {
        let mut minor = 0u32;
        let mut buf = Buffer {
            length: 0,
            value: ptr::null_mut(),
        };
        // SAFETY: the output buffer is released right after it is copied.
        let major = unsafe {
            gss_display_status(
                &mut minor,
                status,
                kind,
                ptr::null(),
                &mut message_context,
                &mut buf,
            )
        };
        if major & ERROR_MASK != 0 {
            break;
        }
        if !buf.value.is_null() {
            // SAFETY: GSSAPI returned `length` bytes at `value`.
            let bytes = unsafe { std::slice::from_raw_parts(buf.value.cast::<u8>(), buf.length) };
            let text = String::from_utf8_lossy(bytes).trim().to_string();
            if !text.is_empty() {
                out.push(text);
            }
        }
        // SAFETY: released once.
        unsafe { gss_release_buffer(&mut minor, &mut buf) };
        if message_context == 0 {
            break;
        }
    }
    out
}
