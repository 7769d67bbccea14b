// SOAP 1.1 control messages as UPnP Device Architecture 2.0 §3.2 uses them: one request envelope
// per action, a `<ActionResponse>` with out-arguments back, or a fault whose <UPnPError> detail
// becomes an UpnpError. Pure: the HTTP exchange lives in igd-client.ts.
import { IgdError, UpnpError } from './upnp-error.js';
import { child, leafTexts, parseUpnpXml, text } from './upnp-xml.js';

export type SoapArgs = ReadonlyArray<readonly [name: string, value: string | number]>;

const ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const ENCODING = 'http://schemas.xmlsoap.org/soap/encoding/';

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&${({ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' })[c]};`);
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export function buildSoapRequest(serviceType: string, action: string, args: SoapArgs): string {
  if (!NAME.test(action)) throw new IgdError('malformed', `bad SOAP action name ${action}`);
  const body = args
    .map(([name, value]) => {
      if (!NAME.test(name)) throw new IgdError('malformed', `bad SOAP argument name ${name}`);
      return `<${name}>${escapeXml(String(value))}</${name}>`;
    })
    .join('');
  return (
    `<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="${ENVELOPE_NS}" s:encodingStyle="${ENCODING}">` +
    `<s:Body><u:${action} xmlns:u="${escapeXml(serviceType)}">${body}</u:${action}></s:Body></s:Envelope>\r\n`
  );
}

/** The SOAPAction header value (UDA 2.0 §3.2.1): the quoted service type, '#', the action. */
export function soapActionHeader(serviceType: string, action: string): string {
  return `"${serviceType}#${action}"`;
}

/**
 * Parses a control response body. Returns the out-arguments by name; throws UpnpError for a SOAP
 * fault carrying a UPnPError, IgdError('malformed') for anything else that is not the response.
 */
export function parseSoapResponse(xml: string, action: string): Map<string, string> {
  const body = child(child(parseUpnpXml(xml), 'Envelope'), 'Body');
  if (body === undefined) throw new IgdError('malformed', `${action}: no SOAP Envelope/Body`);
  const fault = child(body, 'Fault');
  if (fault !== undefined) {
    const upnpError = child(child(fault, 'detail'), 'UPnPError');
    const code = Number(text(child(upnpError, 'errorCode'))?.trim());
    if (!Number.isInteger(code) || code < 0 || code > 9999) {
      throw new IgdError('malformed', `${action}: SOAP fault without a UPnP errorCode (${text(child(fault, 'faultstring')) ?? ''})`);
    }
    throw new UpnpError(code, (text(child(upnpError, 'errorDescription')) ?? '').slice(0, 200), action);
  }
  const response = child(body, `${action}Response`);
  if (response === undefined) throw new IgdError('malformed', `${action}: no ${action}Response in the SOAP body`);
  return leafTexts(response);
}
